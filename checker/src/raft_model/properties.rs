//! The named properties of the Raft model: what each one claims, whether it
//! must hold always or be reached sometimes, and the checks of those that
//! are read off the current state (log matching, leader completeness,
//! committed-entries-durable). Properties about transitions and history
//! (election safety, state machine safety, leader append-only, linearizable
//! reads) are checked as each step happens, in `ghost`, `model` and
//! `clients`, and leave a mark in the state that the property reads.
//!
//! The five Raft safety properties are the test kit's checks
//! (`faultline_raft::testkit::safety`), the same the simulator runs: here
//! log matching is checked over the servers' current logs, and leader
//! completeness over each leader's log and the committed log it must hold.

use faultline_raft::testkit::safety::{Breach, CommittedLog, LogMatching, PrefixHashes, Safety};
use faultline_raft::{Role, Term};
use serde::Serialize;

use crate::raft_model::options::RaftModelOptions;
use crate::raft_model::state::ModelState;

/// Whether a property must hold in every reachable state, or must hold in
/// at least one (so the model cannot pass by doing nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expectation {
    Always,
    Sometimes,
}

impl Expectation {
    pub fn name(self) -> &'static str {
        match self {
            Expectation::Always => "always",
            Expectation::Sometimes => "sometimes",
        }
    }
}

/// The always-properties (invariants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Invariant {
    /// At most one leader is elected in any term.
    ElectionSafety,
    /// If two logs hold an entry with the same index and term, they are
    /// identical up to that index.
    LogMatching,
    /// A leader's log holds every entry committed in an earlier (or its own)
    /// term.
    LeaderCompleteness,
    /// No two servers apply different entries at the same index.
    StateMachineSafety,
    /// A leader never overwrites or deletes entries of its log during its term.
    LeaderAppendOnly,
    /// Every committed entry is on the durable disk of a quorum (of the
    /// voters it was committed under), so it survives any crashes.
    CommittedEntriesDurable,
    /// Client writes (proposals) and ReadIndex reads form a linearizable
    /// register history.
    LinearizableReads,
    /// The core keeps its own contract with the model: it restarts from the
    /// disk it asked to be written, accepts every message its correct peers
    /// send, and hands out read states only for applied indexes.
    CoreContract,
}

impl Invariant {
    pub const ALL: [Invariant; 8] = [
        Invariant::ElectionSafety,
        Invariant::LogMatching,
        Invariant::LeaderCompleteness,
        Invariant::StateMachineSafety,
        Invariant::LeaderAppendOnly,
        Invariant::CommittedEntriesDurable,
        Invariant::LinearizableReads,
        Invariant::CoreContract,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Invariant::ElectionSafety => Safety::ElectionSafety.id(),
            Invariant::LogMatching => Safety::LogMatching.id(),
            Invariant::LeaderCompleteness => Safety::LeaderCompleteness.id(),
            Invariant::StateMachineSafety => Safety::StateMachineSafety.id(),
            Invariant::LeaderAppendOnly => Safety::LeaderAppendOnly.id(),
            Invariant::CommittedEntriesDurable => "committed-entries-durable",
            Invariant::LinearizableReads => "linearizable-reads",
            Invariant::CoreContract => "core-contract",
        }
    }

    /// Why the invariant fails in `state`, or None when it holds there.
    pub fn violation(self, state: &ModelState) -> Option<String> {
        match self {
            Invariant::LogMatching => log_matching(state),
            Invariant::LeaderCompleteness => leader_completeness(state),
            Invariant::CommittedEntriesDurable => committed_durable(state),
            // Checked as steps happen; the first violation is recorded.
            _ => state.ghost.violation(self).map(str::to_string),
        }
    }
}

impl From<Safety> for Invariant {
    fn from(s: Safety) -> Invariant {
        match s {
            Safety::ElectionSafety => Invariant::ElectionSafety,
            Safety::LogMatching => Invariant::LogMatching,
            Safety::LeaderCompleteness => Invariant::LeaderCompleteness,
            Safety::StateMachineSafety => Invariant::StateMachineSafety,
            Safety::LeaderAppendOnly => Invariant::LeaderAppendOnly,
        }
    }
}

/// The sometimes-properties (reachability goals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Goal {
    LeaderElected,
    ValueCommitted,
    ValueCommittedAfterCrash,
    ReadReturnsCommittedValue,
    ConfChangeCommitted,
}

impl Goal {
    pub const ALL: [Goal; 5] = [
        Goal::LeaderElected,
        Goal::ValueCommitted,
        Goal::ValueCommittedAfterCrash,
        Goal::ReadReturnsCommittedValue,
        Goal::ConfChangeCommitted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Goal::LeaderElected => "a-leader-is-elected",
            Goal::ValueCommitted => "a-value-is-committed",
            Goal::ValueCommittedAfterCrash => "a-value-is-committed-after-a-crash",
            Goal::ReadReturnsCommittedValue => "a-read-returns-a-committed-value",
            Goal::ConfChangeCommitted => "a-membership-change-is-committed",
        }
    }

    /// Whether the bounds allow the goal at all (a read goal needs reads
    /// and a value, a crash goal needs crashes); goals that cannot apply
    /// are left out of a run rather than reported unreachable.
    pub fn applies(self, opts: &RaftModelOptions) -> bool {
        match self {
            Goal::LeaderElected => true,
            Goal::ValueCommitted => opts.proposals > 0,
            Goal::ValueCommittedAfterCrash => opts.proposals > 0 && opts.crashes > 0,
            Goal::ReadReturnsCommittedValue => opts.proposals > 0 && opts.reads > 0,
            Goal::ConfChangeCommitted => opts.conf_changes > 0,
        }
    }

    pub fn reached(self, state: &ModelState) -> bool {
        match self {
            Goal::LeaderElected => state.servers.iter().any(|s| s.core.role() == Role::Leader),
            Goal::ValueCommitted => state.ghost.value_committed(),
            Goal::ValueCommittedAfterCrash => state.ghost.committed_after_crash,
            Goal::ReadReturnsCommittedValue => state.ghost.read_returned_value,
            Goal::ConfChangeCommitted => state.ghost.conf_change_committed(),
        }
    }
}

/// A property of either kind, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum NamedProperty {
    Always(Invariant),
    Sometimes(Goal),
}

impl NamedProperty {
    /// Every property, invariants first, in report order.
    pub fn all() -> Vec<NamedProperty> {
        Invariant::ALL
            .into_iter()
            .map(NamedProperty::Always)
            .chain(Goal::ALL.into_iter().map(NamedProperty::Sometimes))
            .collect()
    }

    /// The properties of a run with these bounds: every invariant, and the
    /// goals the bounds allow.
    pub fn applicable(opts: &RaftModelOptions) -> Vec<NamedProperty> {
        NamedProperty::all()
            .into_iter()
            .filter(|p| match p {
                NamedProperty::Always(_) => true,
                NamedProperty::Sometimes(g) => g.applies(opts),
            })
            .collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            NamedProperty::Always(i) => i.name(),
            NamedProperty::Sometimes(g) => g.name(),
        }
    }

    pub fn expectation(self) -> Expectation {
        match self {
            NamedProperty::Always(_) => Expectation::Always,
            NamedProperty::Sometimes(_) => Expectation::Sometimes,
        }
    }

    pub fn by_name(name: &str) -> Option<NamedProperty> {
        NamedProperty::all().into_iter().find(|p| p.name() == name)
    }
}

/// Log matching over the servers' current logs (the model never compacts:
/// every log starts at index 1).
fn log_matching(state: &ModelState) -> Option<String> {
    let mut logs = LogMatching::default();
    for s in &state.servers {
        let mut log = logs.start(0, 0);
        if let Err(b) = logs.extend(s.core.id(), &mut log, s.core.log_entries()) {
            return Some(b.detail);
        }
    }
    None
}

/// Leader completeness: each leader of term `t` holds the committed log up
/// to its last entry committed in a term `<= t` (entries committed in
/// later terms, by later leaders, it may lack).
fn leader_completeness(state: &ModelState) -> Option<String> {
    let committed = &state.ghost.committed;
    let mut prefixes: Option<CommittedLog> = None;
    for s in &state.servers {
        if s.core.role() != Role::Leader {
            continue;
        }
        let term = s.core.term();
        let upto = committed_by(state, term);
        if upto == 0 {
            continue;
        }
        let prefixes = prefixes.get_or_insert_with(|| {
            CommittedLog::of_entries(committed.iter().map(|c| (c.term, &c.kind, &c.data[..])))
        });
        let log = PrefixHashes::of_log(s.core.log_entries());
        if let Err(Breach { detail, .. }) =
            prefixes.leader_completeness(s.core.id(), term, &log, upto)
        {
            return Some(detail);
        }
    }
    None
}

/// The highest index committed in a term `<= term`, as the ghost saw it.
fn committed_by(state: &ModelState, term: Term) -> u64 {
    state
        .ghost
        .committed
        .iter()
        .rposition(|c| c.commit_term <= term)
        .map_or(0, |k| k as u64 + 1)
}

/// Each committed entry is on the disks of a majority of the voters it
/// was committed under (all servers, without membership changes).
fn committed_durable(state: &ModelState) -> Option<String> {
    for (k, c) in state.ghost.committed.iter().enumerate() {
        let quorum = c.voters.len() / 2 + 1;
        let on_disk = state
            .servers
            .iter()
            .filter(|s| c.voters.binary_search(&s.core.id()).is_ok())
            .filter(|s| {
                s.disk
                    .entries
                    .iter()
                    .any(|e| e.index == k as u64 + 1 && c.same_entry(e))
            })
            .count();
        if on_disk < quorum {
            return Some(format!(
                "committed entry {} (term {}) is durable on {on_disk} servers, fewer than a quorum of {quorum}",
                k + 1,
                c.term
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found_by_name() {
        let all = NamedProperty::all();
        for p in &all {
            assert_eq!(NamedProperty::by_name(p.name()), Some(*p));
        }
        let mut names: Vec<_> = all.iter().map(|p| p.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert_eq!(NamedProperty::by_name("no-such-property"), None);
    }
}
