//! Planted bugs of the shard group layer (`kvnode --bug NAME`, layer
//! `shardkv`) and their rows for `faultline bugs`.

use std::collections::BTreeSet;
use std::str::FromStr;

use faultline_raft::BugInfo;
use serde::{Deserialize, Serialize};

/// A planted defect of shard migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ShardBug {
    /// An installed shard arrives without its session table.
    SkipSessionTransfer,
    /// The old owner keeps serving a shard after the new configuration.
    ServeDuringHandoff,
    /// The old owner deletes a shard as soon as it handed it out, before the
    /// new owner confirmed it installed it.
    EarlyGc,
}

impl ShardBug {
    pub const ALL: [ShardBug; 3] = [
        ShardBug::SkipSessionTransfer,
        ShardBug::ServeDuringHandoff,
        ShardBug::EarlyGc,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ShardBug::SkipSessionTransfer => "skip-session-transfer",
            ShardBug::ServeDuringHandoff => "serve-during-handoff",
            ShardBug::EarlyGc => "early-gc",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            ShardBug::SkipSessionTransfer => {
                "session tables are not moved with a shard, so a retried append applies twice"
            }
            ShardBug::ServeDuringHandoff => {
                "the old owner keeps serving a shard after the new configuration (lost writes, stale reads)"
            }
            ShardBug::EarlyGc => {
                "the old owner deletes a shard when it hands it out, before the new owner confirmed it (a lost pull reply loses the shard)"
            }
        }
    }

    pub fn caught_by(self) -> &'static str {
        match self {
            ShardBug::SkipSessionTransfer => {
                "tests/run_shard.rs skip_session_transfer_is_caught: faultline run --workload append --groups 3 --nemesis shard-move --nemesis-interval 1 --time-limit 15 --bug skip-session-transfer (a giver stall leaves appends in flight that apply at the old owner and again at the new one); cluster/harness/tests/shard_bugs.rs (real processes: a retried append applies twice after its shard moved); cluster/kvnode/src/shard/shardkv.rs tests::skip_session_transfer_applies_a_retry_twice"
            }
            ShardBug::ServeDuringHandoff => {
                "tests/run_shard.rs serve_during_handoff_is_caught: faultline run --workload append --groups 3 --nemesis shard-move --nemesis-interval 1 --time-limit 15 --bug serve-during-handoff (clients with an old configuration read and write at the old owner); cluster/kvnode/src/shard/shardkv.rs tests::serve_during_handoff_loses_a_write"
            }
            ShardBug::EarlyGc => {
                "tests/run_shard.rs early_gc_is_caught: faultline run --workload append --groups 3 --nemesis shard-move --nemesis-interval 1 --time-limit 15 --bug early-gc (a receiver stall crashes the new owner after its pull, the next leader pulls an already deleted shard); cluster/kvnode/src/shard/shardkv.rs tests::early_gc_loses_the_shard_when_a_pull_reply_is_lost"
            }
        }
    }
}

/// An unknown shardkv bug name.
#[derive(Debug, thiserror::Error)]
#[error("unknown shardkv bug {0:?}; known: skip-session-transfer, serve-during-handoff, early-gc")]
pub struct UnknownShardBug(pub String);

impl FromStr for ShardBug {
    type Err = UnknownShardBug;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ShardBug::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| UnknownShardBug(s.to_string()))
    }
}

/// The shardkv bugs one node runs with.
pub type ShardBugs = BTreeSet<ShardBug>;

/// The shardkv layer's rows for `faultline bugs`.
pub fn catalogue() -> Vec<BugInfo> {
    ShardBug::ALL
        .into_iter()
        .map(|b| BugInfo {
            name: b.name().to_string(),
            layer: "shardkv".to_string(),
            description: b.description().to_string(),
            caught_by: b.caught_by().to_string(),
            command: format!(
                "faultline run --workload append --groups 3 --nemesis shard-move \
                 --nemesis-interval 1 --time-limit 15 --bug {}",
                b.name()
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in ShardBug::ALL {
            assert_eq!(b.name().parse::<ShardBug>().unwrap(), b);
        }
        assert!("nope".parse::<ShardBug>().is_err());
        assert_eq!(catalogue().len(), 3);
        assert!(catalogue().iter().all(|r| r.layer == "shardkv"));
    }
}
