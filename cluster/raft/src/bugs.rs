//! Planted bugs of the Raft layer, and the descriptor type every layer uses
//! to list its planted bugs in `faultline bugs`.
//!
//! A planted bug is chosen at run time through `Config::bugs`; with an empty
//! set the core is correct.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A row of `faultline bugs --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BugInfo {
    pub name: String,
    pub layer: String,
    pub description: String,
    /// Which test, command and bounds catch it.
    pub caught_by: String,
    /// The one `faultline` command that catches it (exit 1), without
    /// `--seed`: what `scripts/bug-matrix.sh -c` runs with fresh seeds to
    /// measure how often it does.
    pub command: String,
}

/// The deliberate defects the Raft core can be built to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RaftBug {
    /// Commit an entry of an older term by counting replicas (Raft Figure 8).
    /// Believing that enough, a new leader also skips its Noop entry, so an
    /// old-term entry is replicated on its own and committed by count.
    Figure8,
    /// votedFor is not persisted (`Ready::hard_state` always carries
    /// `vote: None`, and a restart drops any vote it is given): a restarted
    /// node may vote twice in one term.
    ForgetVote,
    /// Grant votes without checking the candidate's log is up to date.
    NoLogCheck,
    /// Answer ReadIndex at once with the current commit index, without the
    /// heartbeat round that confirms leadership and without waiting for the
    /// leader's first commit in its term.
    StaleReadIndex,
    /// Lease mode: the lease is the full election timeout, with no margin
    /// for clock drift, so a leader whose clock runs slow keeps serving
    /// reads after its followers elected a new leader.
    LeaseNoDriftMargin,
    /// A new leader proposes a membership change before it has committed an
    /// entry of its own term, so its change can conflict with an
    /// uncommitted change of an earlier leader (Ongaro, raft-dev 2015).
    ReconfigNoNoop,
}

impl RaftBug {
    pub const ALL: [RaftBug; 6] = [
        RaftBug::Figure8,
        RaftBug::ForgetVote,
        RaftBug::NoLogCheck,
        RaftBug::StaleReadIndex,
        RaftBug::LeaseNoDriftMargin,
        RaftBug::ReconfigNoNoop,
    ];

    /// Whether the bug only shows in lease mode (`ReadMode::Lease`).
    pub fn needs_lease(self) -> bool {
        matches!(self, RaftBug::LeaseNoDriftMargin)
    }

    pub fn name(self) -> &'static str {
        match self {
            RaftBug::Figure8 => "figure8",
            RaftBug::ForgetVote => "forget-vote",
            RaftBug::NoLogCheck => "no-log-check",
            RaftBug::StaleReadIndex => "stale-read-index",
            RaftBug::LeaseNoDriftMargin => "lease-no-drift-margin",
            RaftBug::ReconfigNoNoop => "reconfig-no-noop",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            RaftBug::Figure8 => {
                "a leader commits an entry of an older term by counting replicas (Raft Figure 8)"
            }
            RaftBug::ForgetVote => {
                "votedFor is not persisted, so a restarted node can vote twice in a term"
            }
            RaftBug::NoLogCheck => {
                "votes are granted without the candidate's-log-is-up-to-date check"
            }
            RaftBug::StaleReadIndex => {
                "ReadIndex is answered without the heartbeat round that proves leadership"
            }
            RaftBug::LeaseNoDriftMargin => {
                "lease mode: the leader lease is the full election timeout, with no margin for clock drift"
            }
            RaftBug::ReconfigNoNoop => {
                "a new leader may propose a membership change before committing an entry of its \
                 own term, so two overlapping changes of different leaders can both take effect \
                 and a committed entry is lost (the 2015 single-server change bug)"
            }
        }
    }

    /// The command of the bug matrix (see [`BugInfo::command`]).
    pub fn command(self) -> &'static str {
        match self {
            RaftBug::Figure8 => "faultline sim raft --seeds 500 --bug figure8",
            RaftBug::ForgetVote => "faultline sim raft --seeds 500 --bug forget-vote",
            RaftBug::NoLogCheck => "faultline sim raft --seeds 500 --bug no-log-check",
            RaftBug::StaleReadIndex => "faultline sim raft --seeds 500 --bug stale-read-index",
            RaftBug::LeaseNoDriftMargin => {
                "faultline run --read-mode lease --clock-drift 40 --nemesis clock-partition --nemesis-interval 2 --time-limit 30 --attempt-timeout-ms 50 --bug lease-no-drift-margin"
            }
            RaftBug::ReconfigNoNoop => {
                "faultline sim raft --conf-changes --seeds 500 --bug reconfig-no-noop"
            }
        }
    }

    pub fn caught_by(self) -> &'static str {
        match self {
            RaftBug::Figure8 => {
                "faultline sim raft --seeds 500 --bug NAME (tests: sim_catches_planted_bugs); \
                 faultline model raft --bug figure8 --max-term 4 --max-log 1 --proposals 2 \
                 --strategy simulate --seed 1 (leader-completeness; test model_bugs): the \
                 20-step history is beyond exhaustive search in CI, so the model is searched \
                 by seeded random walks"
            }
            RaftBug::ForgetVote => {
                "faultline sim raft --seeds 500 --bug NAME (tests: sim_catches_planted_bugs); \
                 faultline model raft --bug forget-vote --max-term 1 --max-log 1 --crashes 1 \
                 --proposals 0 (election-safety; test model_bugs)"
            }
            RaftBug::NoLogCheck => {
                "faultline sim raft --seeds 500 --bug NAME (tests: sim_catches_planted_bugs); \
                 faultline model raft --bug no-log-check at the default bounds \
                 (leader-completeness; test model_bugs)"
            }
            RaftBug::StaleReadIndex => {
                "faultline sim raft --seeds 500 --bug NAME (tests: sim_catches_planted_bugs); \
                 faultline model raft --bug stale-read-index --max-log 3 --reads 1 \
                 (linearizable-reads; test model_bugs)"
            }
            RaftBug::LeaseNoDriftMargin => {
                "faultline run --read-mode lease --clock-drift 40 --nemesis clock-partition \
                 --nemesis-interval 2 --time-limit 30 --attempt-timeout-ms 50 --bug \
                 lease-no-drift-margin (nodes in namespaces, as root): 10/10 runs invalid \
                 (seeds 700-709); the same with --nemesis partition: 0/10 invalid, seeds 700-709 (README \"Clock \
                 faults and leases\"); faultline sim raft --seeds 500 --seed 0 --read-mode lease \
                 --clock-drift 40 --bug lease-no-drift-margin (7 of 500 seeds; test sim_bugs \
                 lease_no_drift_margin_is_found); tests/lease.rs in faultline-raft"
            }
            RaftBug::ReconfigNoNoop => {
                "faultline sim raft --conf-changes --seeds 500 --seed 0 --bug reconfig-no-noop \
                 (176 of 500 seeds break a safety property: 174 Leader Completeness, 1 State \
                 Machine Safety, 1 Election Safety; first seed 0; the operator's reconfig_race \
                 pattern splits the network around two overlapping changes of two leaders; \
                 the correct core: 0 of 500; test sim_bugs); faultline model raft --bug \
                 reconfig-no-noop --servers 4 --conf-changes 2 --max-term 3 --max-log 3 \
                 --elections 3 --proposals 0 --strategy simulate --seed 5 --threads 1 \
                 (leader-completeness after 281,284 states, shrunk to 18 steps; test \
                 model_bugs; breadth-first search at these bounds, or at --max-log 2, \
                 outgrows 4 GiB); cargo test -p faultline-raft --test \
                 reconfig_bug (the 2015 scenario: 4 voters; leader 1 adds 5, uncommitted; \
                 leader 2 of term 2 removes 1 at once and commits it with 3; leader 1 wins term \
                 3 with 4 and 5; two different entries committed at index 2)"
            }
        }
    }
}

impl fmt::Display for RaftBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown bug name.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown raft bug {0:?}; known: figure8, forget-vote, no-log-check, stale-read-index, lease-no-drift-margin, reconfig-no-noop"
)]
pub struct UnknownBug(pub String);

impl FromStr for RaftBug {
    type Err = UnknownBug;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RaftBug::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| UnknownBug(s.to_string()))
    }
}

/// The set of planted bugs a core runs with (empty: correct).
pub type BugSet = BTreeSet<RaftBug>;

/// The planted bugs a core runs with, as plain flags (cheap to clone and hash
/// inside a `RawNode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct ActiveBugs {
    pub figure8: bool,
    pub forget_vote: bool,
    pub no_log_check: bool,
    pub stale_read_index: bool,
    pub reconfig_no_noop: bool,
}

impl ActiveBugs {
    pub fn from_set(set: &BugSet) -> ActiveBugs {
        ActiveBugs {
            figure8: set.contains(&RaftBug::Figure8),
            forget_vote: set.contains(&RaftBug::ForgetVote),
            no_log_check: set.contains(&RaftBug::NoLogCheck),
            stale_read_index: set.contains(&RaftBug::StaleReadIndex),
            reconfig_no_noop: set.contains(&RaftBug::ReconfigNoNoop),
        }
    }
}

/// The Raft layer's rows for `faultline bugs`.
pub fn catalogue() -> Vec<BugInfo> {
    RaftBug::ALL
        .into_iter()
        .map(|b| BugInfo {
            name: b.name().to_string(),
            layer: "raft".to_string(),
            description: b.description().to_string(),
            caught_by: b.caught_by().to_string(),
            command: b.command().to_string(),
        })
        .collect()
}
