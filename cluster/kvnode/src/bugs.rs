//! Planted bugs of the KV and client layers (`kvnode --bug NAME`, client
//! options), and the rows they add to `faultline bugs`.
//!
//! kvnode's `--bug` takes these names and the Raft core's (`figure8`, ...);
//! [`NodeBugs::parse`] splits them: Raft names go to the core's `Config.bugs`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use faultline_raft::{BugInfo, BugSet, RaftBug};
use serde::{Deserialize, Serialize};

/// A planted defect of the KV state machine, the node or the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KvBug {
    /// The leader answers Get from its local state without ReadIndex.
    StaleRead,
    /// The session table is ignored: a retried write applies twice.
    NoDedup,
    /// A Put is acknowledged when proposed, not when applied.
    AckBeforeCommit,
    /// The client retries with a fresh sequence number (client layer).
    ClientRetryNewSeq,
    /// The WAL is written but not fsynced before the node acknowledges
    /// (storage layer): only a power loss shows it.
    NoFsync,
    /// Lease mode: the node counts its ticks, and so its lease, on the wall
    /// clock instead of the monotonic clock.
    LeaseWallClock,
    /// A node outside the configuration (removed) answers Gets from its own
    /// state instead of refusing with `NotMember`.
    RemovedStillServes,
}

impl KvBug {
    pub const ALL: [KvBug; 7] = [
        KvBug::StaleRead,
        KvBug::NoDedup,
        KvBug::AckBeforeCommit,
        KvBug::ClientRetryNewSeq,
        KvBug::NoFsync,
        KvBug::LeaseWallClock,
        KvBug::RemovedStillServes,
    ];

    /// Whether the bug only shows in lease mode (`--read-mode lease`).
    pub fn needs_lease(self) -> bool {
        matches!(self, KvBug::LeaseWallClock)
    }

    pub fn name(self) -> &'static str {
        match self {
            KvBug::StaleRead => "stale-read",
            KvBug::NoDedup => "no-dedup",
            KvBug::AckBeforeCommit => "ack-before-commit",
            KvBug::ClientRetryNewSeq => "client-retry-new-seq",
            KvBug::NoFsync => "no-fsync",
            KvBug::LeaseWallClock => "lease-wall-clock",
            KvBug::RemovedStillServes => "removed-still-serves",
        }
    }

    pub fn layer(self) -> &'static str {
        match self {
            KvBug::ClientRetryNewSeq => "client",
            KvBug::NoFsync => "storage",
            _ => "kv",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            KvBug::StaleRead => {
                "the leader answers Get from its local state without a ReadIndex round"
            }
            KvBug::NoDedup => "the session table is ignored, so a retried Append applies twice",
            KvBug::AckBeforeCommit => "a Put is acknowledged when proposed, not when applied",
            KvBug::ClientRetryNewSeq => {
                "the client retries with a fresh sequence number, defeating exactly-once"
            }
            KvBug::NoFsync => {
                "the WAL is written but not fsynced before the node votes, replicates and acknowledges; kill -9 never shows it (the kernel keeps the writes), a power loss does"
            }
            KvBug::LeaseWallClock => {
                "lease mode: the node measures its ticks and lease on the wall clock, not the monotonic clock"
            }
            KvBug::RemovedStillServes => {
                "a member removed from the group keeps answering Gets from its own state, which no longer learns new writes, instead of refusing with \"not a member\""
            }
        }
    }

    /// The command of the bug matrix (`faultline_raft::BugInfo::command`).
    pub fn command(self) -> &'static str {
        match self {
            KvBug::StaleRead => {
                "faultline run --workload register --nemesis partition:isolate-leader --nemesis-interval 2 --time-limit 60 --concurrency 30 --attempt-timeout-ms 100 --bug stale-read"
            }
            KvBug::NoDedup => {
                "faultline run --workload append --nemesis kill --nemesis-interval 2 --time-limit 20 --bug no-dedup"
            }
            KvBug::AckBeforeCommit => {
                "faultline run --workload register --nemesis partition --nemesis-interval 2 --time-limit 20 --bug ack-before-commit"
            }
            KvBug::ClientRetryNewSeq => {
                "faultline run --workload append --nemesis kill,partition --nemesis-interval 2 --time-limit 20 --bug client-retry-new-seq"
            }
            KvBug::NoFsync => {
                "faultline run --workload append --nemesis power --nemesis-interval 3 --time-limit 30 --bug no-fsync"
            }
            KvBug::LeaseWallClock => {
                "faultline run --read-mode lease --clock-drift 40 --nemesis clock-partition --nemesis-interval 2 --time-limit 30 --attempt-timeout-ms 50 --bug lease-wall-clock"
            }
            KvBug::RemovedStillServes => {
                "faultline run --workload register --nemesis membership --nemesis-interval 3 --time-limit 15 --bug removed-still-serves"
            }
        }
    }

    pub fn caught_by(self) -> &'static str {
        match self {
            KvBug::StaleRead => {
                "faultline run --workload register --nemesis partition:isolate-leader --nemesis-interval 2 --time-limit 60 --concurrency 30 --attempt-timeout-ms 100 --bug stale-read (nodes in namespaces, as root): every partition isolates the leader, which answers the Gets of the processes bound to it until CheckQuorum deposes it (200-400 ms); the window only overlaps the new leader's first writes (300+ ms) now and then, so many short isolations, many processes per node and a short attempt timeout (a write stuck at the old leader gives up fast and the process reads again) make it likely; with random grudges and 10 processes it was 3/10 in 30 s"
            }
            KvBug::NoDedup => {
                "tests/run_bug.rs no_dedup_under_kill_is_caught; faultline run --workload append --nemesis kill --nemesis-interval 2 --bug no-dedup (2/2 runs of 20 s); cluster/harness/tests/kv_bugs.rs"
            }
            KvBug::AckBeforeCommit => {
                "faultline run --workload register --nemesis partition --nemesis-interval 2 --bug ack-before-commit (2/2 runs of 20 s); cluster/harness/tests/kv_bugs.rs ack_before_commit_acknowledges_a_put_that_cannot_commit"
            }
            KvBug::ClientRetryNewSeq => {
                "faultline run --workload append --nemesis kill,partition --nemesis-interval 2 --bug client-retry-new-seq (2/2 runs of 20 s)"
            }
            KvBug::NoFsync => {
                "faultline run --workload append --nemesis power --nemesis-interval 3 --time-limit 30 --bug no-fsync (diskfs over each data directory; root and /dev/fuse): 10/10 runs invalid, while --nemesis kill: 0/10 (scripts/power-matrix.sh); tests/run_power.rs, cluster/harness/tests/disk_faults.rs"
            }
            KvBug::LeaseWallClock => {
                "faultline run --read-mode lease --clock-drift 40 --nemesis clock-partition --nemesis-interval 2 --time-limit 30 --attempt-timeout-ms 50 --bug lease-wall-clock (nodes in namespaces, as root): 10/10 runs invalid (seeds 700-709, and 600-609); the same with --nemesis partition: 0/10 invalid, seeds 700-709 (README \"Clock faults and leases\")"
            }
            KvBug::RemovedStillServes => {
                "faultline run --workload register --nemesis membership --nemesis-interval 3 --time-limit 15 --seed 300 --test-count 10 --bug removed-still-serves (nodes in namespaces, as root): 9/10 runs invalid; the correct build under --nemesis membership,kill,partition: 10/10 valid (README \"Membership changes of a kvnode group\"); tests/run_membership.rs"
            }
        }
    }
}

impl fmt::Display for KvBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown bug name.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown bug {0:?}; known: stale-read, no-dedup, ack-before-commit, client-retry-new-seq, \
     no-fsync, lease-wall-clock, removed-still-serves, figure8, forget-vote, no-log-check, stale-read-index, lease-no-drift-margin, reconfig-no-noop"
)]
pub struct UnknownBugName(pub String);

impl FromStr for KvBug {
    type Err = UnknownBugName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KvBug::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| UnknownBugName(s.to_string()))
    }
}

/// The bugs one kvnode runs with, split by layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeBugs {
    pub kv: BTreeSet<KvBug>,
    pub raft: BugSet,
}

impl NodeBugs {
    /// Sort bug names into the KV and Raft sets; unknown names are an error.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<NodeBugs, UnknownBugName> {
        let mut bugs = NodeBugs::default();
        for name in names {
            let name = name.as_ref();
            if let Ok(b) = name.parse::<KvBug>() {
                bugs.kv.insert(b);
            } else if let Ok(b) = name.parse::<RaftBug>() {
                bugs.raft.insert(b);
            } else {
                return Err(UnknownBugName(name.to_string()));
            }
        }
        Ok(bugs)
    }

    pub fn has(&self, bug: KvBug) -> bool {
        self.kv.contains(&bug)
    }
}

/// The KV, client and shardkv layers' rows for `faultline bugs`.
pub fn catalogue() -> Vec<BugInfo> {
    KvBug::ALL
        .into_iter()
        .map(|b| BugInfo {
            name: b.name().to_string(),
            layer: b.layer().to_string(),
            description: b.description().to_string(),
            caught_by: b.caught_by().to_string(),
            command: b.command().to_string(),
        })
        .chain(crate::shard::catalogue())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_split_by_layer_and_unknown_names_refused() {
        let bugs = NodeBugs::parse(&["no-dedup", "figure8"]).unwrap();
        assert!(bugs.has(KvBug::NoDedup));
        assert!(bugs.raft.contains(&RaftBug::Figure8));
        assert!(NodeBugs::parse(&["nope"]).is_err());
        assert_eq!(catalogue().len(), 10);
        assert_eq!(catalogue()[4].layer, "storage");
        assert_eq!(catalogue()[5].name, "lease-wall-clock");
        assert_eq!(catalogue()[6].name, "removed-still-serves");
        assert_eq!(catalogue()[9].layer, "shardkv");
        assert_eq!(catalogue()[3].layer, "client");
    }
}
