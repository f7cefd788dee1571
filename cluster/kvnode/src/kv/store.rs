//! `KvStore`: the key/value map plus the session table, advanced one
//! committed log entry at a time.

use std::collections::BTreeMap;

use faultline_raft::Index;

use super::command::{Command, Op, Reply, decode_command};
use super::error::KvError;
use super::sessions::{SessionLookup, Sessions};
use super::snapshot;

/// What applying one log entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The command took effect now.
    Applied {
        client_id: u64,
        seq: u64,
        reply: Reply,
    },
    /// The same (client, seq) had already applied: not applied again; the
    /// reply is the one recorded the first time.
    Duplicate {
        client_id: u64,
        seq: u64,
        reply: Reply,
    },
    /// An older sequence than the client's last: ignored.
    Stale { client_id: u64, seq: u64 },
    /// The entry's data is not a command (a buggy proposer): skipped.
    Undecodable(String),
}

/// The replicated state: data, sessions and the index applied so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KvStore {
    data: BTreeMap<String, String>,
    sessions: Sessions,
    applied: Index,
    /// Planted bug `no-dedup`: ignore the session table when applying.
    no_dedup: bool,
}

impl KvStore {
    /// An empty store with the given session limits.
    pub fn new(sessions: Sessions, no_dedup: bool) -> KvStore {
        KvStore {
            data: BTreeMap::new(),
            sessions,
            applied: 0,
            no_dedup,
        }
    }

    pub fn applied(&self) -> Index {
        self.applied
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Read a key from the applied state.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.data.get(key)
    }

    /// What the session table says about a write before proposing it.
    pub fn lookup(&self, client_id: u64, seq: u64) -> SessionLookup {
        if self.no_dedup {
            return SessionLookup::New;
        }
        self.sessions.lookup(client_id, seq)
    }

    /// An entry without a command (a leader's Noop) at `index`.
    pub fn apply_noop(&mut self, index: Index) {
        self.applied = self.applied.max(index);
        self.sessions.expire(index);
    }

    /// Apply the command encoded in `data`, the entry at `index`.
    pub fn apply(&mut self, index: Index, data: &[u8]) -> ApplyOutcome {
        self.apply_noop(index);
        match decode_command(data) {
            Ok(cmd) => self.apply_command(index, cmd),
            Err(e) => ApplyOutcome::Undecodable(e.to_string()),
        }
    }

    /// Apply a decoded command at `index`.
    pub fn apply_command(&mut self, index: Index, cmd: Command) -> ApplyOutcome {
        let Command { client_id, seq, op } = cmd;
        match self.lookup(client_id, seq) {
            SessionLookup::Duplicate(reply) => {
                return ApplyOutcome::Duplicate {
                    client_id,
                    seq,
                    reply,
                };
            }
            SessionLookup::Stale { .. } => return ApplyOutcome::Stale { client_id, seq },
            SessionLookup::New => {}
        }
        let reply = self.execute(op);
        self.sessions.record(client_id, seq, reply.clone(), index);
        ApplyOutcome::Applied {
            client_id,
            seq,
            reply,
        }
    }

    fn execute(&mut self, op: Op) -> Reply {
        match op {
            Op::Get { key } => Reply::Value(self.data.get(&key).cloned()),
            Op::Put { key, value } => {
                self.data.insert(key, value);
                Reply::Done
            }
            Op::Append { key, value } => {
                self.data.entry(key).or_default().push_str(&value);
                Reply::Done
            }
            Op::Cas { key, expected, new } => {
                let current = self.data.get(&key);
                if current == expected.as_ref() {
                    self.data.insert(key, new.clone());
                    Reply::Cas {
                        applied: true,
                        current: Some(new),
                    }
                } else {
                    Reply::Cas {
                        applied: false,
                        current: current.cloned(),
                    }
                }
            }
        }
    }

    /// Encode the whole state (data, sessions, applied index).
    pub fn snapshot(&self) -> Result<Vec<u8>, KvError> {
        snapshot::encode(self.applied, &self.data, &self.sessions.to_sorted_vec())
    }

    /// Replace the state with a snapshot's content.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), KvError> {
        let body = snapshot::decode(bytes)?;
        self.applied = body.applied;
        self.data = body.data.into_iter().collect();
        self.sessions.restore(body.sessions);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::encode_command;

    fn cmd(client_id: u64, seq: u64, op: Op) -> Vec<u8> {
        encode_command(&Command { client_id, seq, op }).unwrap()
    }

    fn append(key: &str, value: &str) -> Op {
        Op::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn operations_have_their_meaning() {
        let mut kv = KvStore::default();
        let put = Op::Put {
            key: "a".into(),
            value: "1".into(),
        };
        assert!(matches!(
            kv.apply(1, &cmd(1, 1, put)),
            ApplyOutcome::Applied {
                reply: Reply::Done,
                ..
            }
        ));
        kv.apply(2, &cmd(1, 2, append("a", "2")));
        assert_eq!(kv.get("a").map(String::as_str), Some("12"));
        let cas = |expected: Option<&str>, new: &str| Op::Cas {
            key: "a".into(),
            expected: expected.map(String::from),
            new: new.into(),
        };
        let failed = kv.apply(3, &cmd(1, 3, cas(Some("1"), "x")));
        assert_eq!(
            failed,
            ApplyOutcome::Applied {
                client_id: 1,
                seq: 3,
                reply: Reply::Cas {
                    applied: false,
                    current: Some("12".into())
                }
            }
        );
        let ok = kv.apply(4, &cmd(1, 4, cas(Some("12"), "x")));
        assert!(matches!(
            ok,
            ApplyOutcome::Applied {
                reply: Reply::Cas { applied: true, .. },
                ..
            }
        ));
        assert_eq!(kv.get("a").map(String::as_str), Some("x"));
        let absent = kv.apply(
            5,
            &cmd(
                1,
                5,
                Op::Cas {
                    key: "b".into(),
                    expected: None,
                    new: "n".into(),
                },
            ),
        );
        assert!(matches!(
            absent,
            ApplyOutcome::Applied {
                reply: Reply::Cas { applied: true, .. },
                ..
            }
        ));
        assert_eq!(kv.applied(), 5);
    }

    #[test]
    fn a_retried_append_applies_once_unless_dedup_is_off() {
        for no_dedup in [false, true] {
            let mut kv = KvStore::new(Sessions::default(), no_dedup);
            kv.apply(1, &cmd(9, 1, append("k", "x")));
            let again = kv.apply(2, &cmd(9, 1, append("k", "x")));
            if no_dedup {
                assert_eq!(kv.get("k").map(String::as_str), Some("xx"));
            } else {
                assert!(matches!(again, ApplyOutcome::Duplicate { .. }));
                assert_eq!(kv.get("k").map(String::as_str), Some("x"));
            }
        }
    }

    #[test]
    fn snapshot_restores_data_and_sessions() {
        let mut kv = KvStore::default();
        kv.apply(1, &cmd(4, 1, append("k", "x")));
        kv.apply_noop(2);
        let bytes = kv.snapshot().unwrap();
        let mut other = KvStore::default();
        other.restore(&bytes).unwrap();
        assert_eq!(other, kv);
        // The session survived: a retry after restore is still a duplicate.
        assert!(matches!(
            other.apply(3, &cmd(4, 1, append("k", "x"))),
            ApplyOutcome::Duplicate { .. }
        ));
        assert!(other.restore(&bytes[..bytes.len() / 2]).is_err());
        assert!(matches!(
            kv.apply(4, b"garbage"),
            ApplyOutcome::Undecodable(_)
        ));
    }
}
