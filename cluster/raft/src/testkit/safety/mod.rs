//! The Raft safety properties (Raft paper, Figure 3) and the one
//! implementation of each check, shared by the simulator (which checks
//! them as events happen, over the whole run) and the model checker (which
//! checks them on each state it explores, or as steps happen).
//!
//! - `Elections`: Election Safety;
//! - `LogMatching` over `PrefixHashes`: Log Matching;
//! - `CommittedLog`: State Machine Safety at commit, Leader Completeness;
//! - `same_application`: State Machine Safety at apply;
//! - `leader_append_only`: Leader Append-Only.
//!
//! Each check returns a `Breach` naming the property and what broke it.
//! Logs are compared through prefix hashes (`hash`): the hash at index `i`
//! covers every entry up to `i`, so two logs agree up to `i` iff their
//! hashes at `i` are equal, and each check is O(1) per entry.

mod applied;
mod committed;
mod elections;
mod logs;

use std::fmt;

pub use applied::{EntryView, same_application};
pub use committed::CommittedLog;
pub use elections::Elections;
pub use logs::{LogMatching, PrefixHashes, leader_append_only};

/// A safety property of Raft that both the simulator and the model check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safety {
    /// At most one leader is elected in any term.
    ElectionSafety,
    /// If two logs hold an entry with the same index and term, they are
    /// identical up to that index.
    LogMatching,
    /// A leader's log holds every entry committed in an earlier (or its
    /// own) term.
    LeaderCompleteness,
    /// No two servers commit or apply different entries at the same index.
    StateMachineSafety,
    /// A leader never overwrites or deletes entries of its log during its
    /// term.
    LeaderAppendOnly,
}

impl Safety {
    pub const ALL: [Safety; 5] = [
        Safety::ElectionSafety,
        Safety::LogMatching,
        Safety::LeaderCompleteness,
        Safety::StateMachineSafety,
        Safety::LeaderAppendOnly,
    ];

    /// The name as the paper writes it (`faultline sim` reports).
    pub fn title(self) -> &'static str {
        match self {
            Safety::ElectionSafety => "Election Safety",
            Safety::LogMatching => "Log Matching",
            Safety::LeaderCompleteness => "Leader Completeness",
            Safety::StateMachineSafety => "State Machine Safety",
            Safety::LeaderAppendOnly => "Leader Append-Only",
        }
    }

    /// The identifier (`faultline model` reports).
    pub fn id(self) -> &'static str {
        match self {
            Safety::ElectionSafety => "election-safety",
            Safety::LogMatching => "log-matching",
            Safety::LeaderCompleteness => "leader-completeness",
            Safety::StateMachineSafety => "state-machine-safety",
            Safety::LeaderAppendOnly => "leader-append-only",
        }
    }
}

impl fmt::Display for Safety {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// A broken property and what broke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub property: Safety,
    pub detail: String,
}

pub(crate) fn breach(property: Safety, detail: String) -> Result<(), Breach> {
    Err(Breach { property, detail })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct() {
        let mut ids: Vec<_> = Safety::ALL.iter().map(|s| s.id()).collect();
        let mut titles: Vec<_> = Safety::ALL.iter().map(|s| s.to_string()).collect();
        ids.sort_unstable();
        ids.dedup();
        titles.sort_unstable();
        titles.dedup();
        assert_eq!((ids.len(), titles.len()), (5, 5));
    }
}
