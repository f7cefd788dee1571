//! The shard controller's replicated state machine: the list of
//! configurations (numbered from 0) changed by Join / Leave / Move and read
//! by Query, with a session table for exactly-once client operations.

use std::collections::{BTreeMap, BTreeSet};

use faultline_raft::Index;
use serde::{Deserialize, Serialize};

use super::config::{Config, Gid};
use super::error::{ShardError, decode, encode};
use super::rebalance::rebalance;

/// A controller operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CtrlerOp {
    /// Add groups (gid → servers) and rebalance; a known gid gets its new
    /// server list.
    Join(BTreeMap<Gid, Vec<String>>),
    /// Remove groups and hand their shards to the others.
    Leave(Vec<Gid>),
    /// Give one shard to one group (no rebalancing).
    Move { shard: usize, gid: Gid },
    /// Configuration `num`; -1 (or beyond the latest) gives the latest.
    Query { num: i64 },
}

/// A controller operation as stored in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtrlerCommand {
    pub client_id: u64,
    pub seq: u64,
    pub op: CtrlerOp,
}

impl CtrlerCommand {
    pub fn encode(&self) -> Result<Vec<u8>, ShardError> {
        encode("controller command", self)
    }

    pub fn decode(bytes: &[u8]) -> Result<CtrlerCommand, ShardError> {
        decode("controller command", bytes)
    }
}

/// A controller reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CtrlerReply {
    /// Join / Leave / Move took effect, giving configuration `num`.
    Done { num: u64 },
    /// The operation was refused (unknown gid, shard out of range, ...).
    Refused(String),
    /// A Query's configuration.
    Config(Config),
}

/// What applying one entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtrlerOutcome {
    Applied {
        client_id: u64,
        seq: u64,
        reply: CtrlerReply,
    },
    /// The same (client, seq) applied before: the first reply, not re-applied.
    Duplicate {
        client_id: u64,
        seq: u64,
        reply: CtrlerReply,
    },
    /// Older than the client's last sequence: ignored.
    Stale {
        client_id: u64,
        seq: u64,
    },
    Undecodable(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CtrlerSession {
    seq: u64,
    reply: CtrlerReply,
}

/// The controller's state: every configuration so far and the sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtrlerState {
    configs: Vec<Config>,
    sessions: BTreeMap<u64, CtrlerSession>,
    applied: Index,
}

impl CtrlerState {
    /// A controller with configuration 0 of `nshards` shards.
    pub fn new(nshards: usize) -> CtrlerState {
        CtrlerState {
            configs: vec![Config::initial(nshards)],
            sessions: BTreeMap::new(),
            applied: 0,
        }
    }

    pub fn applied(&self) -> Index {
        self.applied
    }

    pub fn latest(&self) -> &Config {
        self.configs.last().expect("configuration 0 always exists")
    }

    /// Configuration `num` (-1 or too large: the latest).
    pub fn query(&self, num: i64) -> &Config {
        usize::try_from(num)
            .ok()
            .and_then(|n| self.configs.get(n))
            .unwrap_or_else(|| self.latest())
    }

    /// The last sequence applied for `client_id` (0: none).
    pub fn last_seq(&self, client_id: u64) -> u64 {
        self.sessions.get(&client_id).map_or(0, |s| s.seq)
    }

    /// An entry without a command at `index`.
    pub fn apply_noop(&mut self, index: Index) {
        self.applied = self.applied.max(index);
    }

    /// Apply the encoded command of the entry at `index`.
    pub fn apply(&mut self, index: Index, data: &[u8]) -> CtrlerOutcome {
        self.apply_noop(index);
        match CtrlerCommand::decode(data) {
            Ok(cmd) => self.apply_command(cmd),
            Err(e) => CtrlerOutcome::Undecodable(e.to_string()),
        }
    }

    /// Apply a decoded command.
    pub fn apply_command(&mut self, cmd: CtrlerCommand) -> CtrlerOutcome {
        let CtrlerCommand { client_id, seq, op } = cmd;
        if let Some(s) = self.sessions.get(&client_id) {
            if seq == s.seq {
                return CtrlerOutcome::Duplicate {
                    client_id,
                    seq,
                    reply: s.reply.clone(),
                };
            }
            if seq < s.seq {
                return CtrlerOutcome::Stale { client_id, seq };
            }
        }
        let reply = self.execute(op);
        self.sessions.insert(
            client_id,
            CtrlerSession {
                seq,
                reply: reply.clone(),
            },
        );
        CtrlerOutcome::Applied {
            client_id,
            seq,
            reply,
        }
    }

    fn execute(&mut self, op: CtrlerOp) -> CtrlerReply {
        let mut next = self.latest().clone();
        next.num += 1;
        match op {
            CtrlerOp::Query { num } => return CtrlerReply::Config(self.query(num).clone()),
            CtrlerOp::Join(groups) => {
                if groups.contains_key(&0) {
                    return CtrlerReply::Refused("gid 0 is reserved".into());
                }
                next.groups.extend(groups);
                let gids: BTreeSet<Gid> = next.groups.keys().copied().collect();
                rebalance(&mut next.shards, &gids);
            }
            CtrlerOp::Leave(gids) => {
                for gid in &gids {
                    next.groups.remove(gid);
                }
                for s in next.shards.iter_mut() {
                    if !next.groups.contains_key(s) {
                        *s = 0;
                    }
                }
                let gids: BTreeSet<Gid> = next.groups.keys().copied().collect();
                rebalance(&mut next.shards, &gids);
            }
            CtrlerOp::Move { shard, gid } => {
                if shard >= next.shards.len() {
                    return CtrlerReply::Refused(format!("no shard {shard}"));
                }
                if !next.groups.contains_key(&gid) {
                    return CtrlerReply::Refused(format!("no group {gid}"));
                }
                next.shards[shard] = gid;
            }
        }
        let num = next.num;
        self.configs.push(next);
        CtrlerReply::Done { num }
    }

    /// Encode the whole state.
    pub fn snapshot(&self) -> Result<Vec<u8>, ShardError> {
        encode("controller snapshot", self)
    }

    /// Replace the state with a snapshot's content.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), ShardError> {
        *self = decode("controller snapshot", bytes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(client_id: u64, seq: u64, op: CtrlerOp) -> Vec<u8> {
        CtrlerCommand { client_id, seq, op }.encode().unwrap()
    }

    fn join(gid: Gid) -> CtrlerOp {
        CtrlerOp::Join(BTreeMap::from([(gid, vec![format!("127.0.0.1:{gid}")])]))
    }

    #[test]
    fn join_leave_move_query() {
        let mut c = CtrlerState::new(10);
        assert_eq!(c.latest().num, 0);
        assert_eq!(c.latest().shards, vec![0; 10]);
        c.apply(1, &cmd(1, 1, join(1)));
        assert_eq!(c.latest().shards, vec![1; 10]);
        c.apply(2, &cmd(1, 2, join(2)));
        assert_eq!(c.latest().num, 2);
        assert_eq!(c.latest().shards_of(2).len(), 5);
        let out = c.apply(3, &cmd(1, 3, CtrlerOp::Move { shard: 0, gid: 2 }));
        assert!(matches!(
            out,
            CtrlerOutcome::Applied {
                reply: CtrlerReply::Done { num: 3 },
                ..
            }
        ));
        assert_eq!(c.latest().owner(0), 2);
        let refused = c.apply(4, &cmd(1, 4, CtrlerOp::Move { shard: 0, gid: 9 }));
        assert!(matches!(
            refused,
            CtrlerOutcome::Applied {
                reply: CtrlerReply::Refused(_),
                ..
            }
        ));
        c.apply(5, &cmd(1, 5, CtrlerOp::Leave(vec![1])));
        assert_eq!(c.latest().shards, vec![2; 10]);
        assert_eq!(c.latest().servers(1), &[] as &[String]);
        let q = c.apply(6, &cmd(2, 1, CtrlerOp::Query { num: 1 }));
        match q {
            CtrlerOutcome::Applied {
                reply: CtrlerReply::Config(cfg),
                ..
            } => assert_eq!(cfg.shards, vec![1; 10]),
            other => panic!("{other:?}"),
        }
        assert_eq!(c.query(-1).num, 4);
        assert_eq!(c.query(99).num, 4);
        assert_eq!(c.applied(), 6);
    }

    #[test]
    fn retried_operations_apply_once_and_snapshots_keep_sessions() {
        let mut c = CtrlerState::new(10);
        c.apply(1, &cmd(7, 1, join(1)));
        let again = c.apply(2, &cmd(7, 1, join(1)));
        assert!(matches!(
            again,
            CtrlerOutcome::Duplicate {
                reply: CtrlerReply::Done { num: 1 },
                ..
            }
        ));
        assert_eq!(c.latest().num, 1);
        let bytes = c.snapshot().unwrap();
        let mut other = CtrlerState::new(10);
        other.restore(&bytes).unwrap();
        assert_eq!(other, c);
        assert!(matches!(
            other.apply(3, &cmd(7, 1, join(1))),
            CtrlerOutcome::Duplicate { .. }
        ));
        assert!(matches!(
            other.apply(4, &cmd(7, 0, join(3))),
            CtrlerOutcome::Stale { .. }
        ));
        assert!(matches!(
            other.apply(5, b"junk"),
            CtrlerOutcome::Undecodable(_)
        ));
        assert!(other.restore(&bytes[..bytes.len() / 2]).is_err());
    }
}
