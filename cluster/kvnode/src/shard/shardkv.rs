//! `ShardKv`: one shard group's replicated state machine. Per shard: its
//! status in the migration protocol, its data and its session table; plus
//! the current and previous configuration. Moves through configurations one
//! at a time, only as the log says (see the module doc of `shard`).

use std::collections::BTreeMap;

use faultline_raft::Index;
use serde::{Deserialize, Serialize};

use super::bugs::{ShardBug, ShardBugs};
use super::config::{Config, Gid};
use super::error::{ShardError, decode, encode};
use super::hash::key_to_shard;
use super::migration::{PullReply, ShardCommand, ShardData, ShardSession};
use crate::kv::{Command, Op, Reply};

/// Where a shard the group holds stands in the migration protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardStatus {
    /// Owned and served.
    Serving,
    /// Owned in the current configuration; waiting for the previous owner's
    /// copy. Not served.
    Pulling,
    /// Owned in the previous configuration, not the current one: kept for
    /// the new owner to pull, not served.
    BePulling,
    /// Installed from the previous owner and served; the previous owner has
    /// not yet confirmed it deleted its copy.
    GcWaiting,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Shard {
    status: ShardStatus,
    content: ShardData,
}

/// The group does not serve this shard (yet): the client should refresh its
/// configuration and retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrongGroup {
    pub shard: usize,
    pub config_num: u64,
}

/// What applying one log entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardApply {
    /// A client operation took effect (or was answered from its session
    /// when `duplicate`).
    Client {
        client_id: u64,
        seq: u64,
        reply: Reply,
        duplicate: bool,
    },
    /// A client operation on a shard the group does not serve.
    WrongGroup {
        client_id: u64,
        seq: u64,
        wrong: WrongGroup,
    },
    /// Older than the client's last sequence on that shard: ignored.
    Stale {
        client_id: u64,
        seq: u64,
    },
    /// The group moved to configuration `num`.
    ConfigApplied {
        num: u64,
    },
    Installed {
        config_num: u64,
        shard: usize,
    },
    Deleted {
        config_num: u64,
        shard: usize,
    },
    Confirmed {
        config_num: u64,
        shard: usize,
    },
    /// A migration entry that no longer applies (a duplicate or out of
    /// date): ignored, with the reason.
    Ignored(String),
    Undecodable(String),
}

/// The old owner's answer when the new owner asks it to delete a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteAnswer {
    /// Not yet at that configuration: retry later.
    NotReady,
    /// Put this command through the log, then answer `Done`.
    Propose(ShardCommand),
    /// Already deleted (or never held): the new owner may confirm.
    Done,
}

/// A shard group's replicated state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardKv {
    gid: Gid,
    config: Config,
    prev: Config,
    shards: BTreeMap<usize, Shard>,
    applied: Index,
    #[serde(skip)]
    bugs: ShardBugs,
}

impl ShardKv {
    /// Group `gid` at configuration 0 of `nshards` shards.
    pub fn new(gid: Gid, nshards: usize, bugs: ShardBugs) -> ShardKv {
        ShardKv {
            gid,
            config: Config::initial(nshards),
            prev: Config::initial(nshards),
            shards: BTreeMap::new(),
            applied: 0,
            bugs,
        }
    }

    pub fn gid(&self) -> Gid {
        self.gid
    }

    pub fn applied(&self) -> Index {
        self.applied
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn nshards(&self) -> usize {
        self.config.nshards()
    }

    fn has(&self, bug: ShardBug) -> bool {
        self.bugs.contains(&bug)
    }

    /// The status of `shard` here (`None`: not held).
    pub fn status(&self, shard: usize) -> Option<ShardStatus> {
        self.shards.get(&shard).map(|s| s.status)
    }

    /// Shards served now, ascending (the node status field `shards`).
    pub fn served_shards(&self) -> Vec<usize> {
        (0..self.nshards()).filter(|&s| self.serves(s)).collect()
    }

    /// Bytes of keys and values held, over every shard (Challenge 1).
    pub fn stored_bytes(&self) -> usize {
        self.shards.values().map(|s| s.content.bytes()).sum()
    }

    /// Whether client operations on `shard` are served.
    pub fn serves(&self, shard: usize) -> bool {
        match self.status(shard) {
            Some(ShardStatus::Serving | ShardStatus::GcWaiting) => {
                self.config.owner(shard) == self.gid
            }
            Some(ShardStatus::BePulling) => self.has(ShardBug::ServeDuringHandoff),
            _ => false,
        }
    }

    fn wrong(&self, shard: usize) -> WrongGroup {
        WrongGroup {
            shard,
            config_num: self.config.num,
        }
    }

    /// Read a key from the applied state (after a ReadIndex round).
    pub fn read(&self, key: &str) -> Result<Option<String>, WrongGroup> {
        let shard = key_to_shard(key, self.nshards());
        if !self.serves(shard) {
            return Err(self.wrong(shard));
        }
        Ok(self
            .shards
            .get(&shard)
            .and_then(|s| s.content.data.get(key).cloned()))
    }

    /// Whether `key`'s shard is served (checked before proposing).
    pub fn check_key(&self, key: &str) -> Result<usize, WrongGroup> {
        let shard = key_to_shard(key, self.nshards());
        if self.serves(shard) {
            Ok(shard)
        } else {
            Err(self.wrong(shard))
        }
    }

    /// The configuration number the leader should fetch next, when nothing
    /// is in flight (every held shard `Serving`).
    pub fn wants_config(&self) -> Option<u64> {
        self.shards
            .values()
            .all(|s| s.status == ShardStatus::Serving)
            .then_some(self.config.num + 1)
    }

    /// Shards to pull: (shard, previous owner, its servers).
    pub fn pulls(&self) -> Vec<(usize, Gid, Vec<String>)> {
        self.in_status(ShardStatus::Pulling)
    }

    /// Shards whose previous owner must be told to delete its copy.
    pub fn gcs(&self) -> Vec<(usize, Gid, Vec<String>)> {
        self.in_status(ShardStatus::GcWaiting)
    }

    fn in_status(&self, status: ShardStatus) -> Vec<(usize, Gid, Vec<String>)> {
        self.shards
            .iter()
            .filter(|(_, s)| s.status == status)
            .map(|(&shard, _)| {
                let from = self.prev.owner(shard);
                (shard, from, self.prev.servers(from).to_vec())
            })
            .collect()
    }

    /// Answer the new owner's pull of `shard` for configuration `config_num`.
    pub fn pull(&self, config_num: u64, shard: usize) -> PullReply {
        if self.config.num < config_num {
            return PullReply::NotReady {
                config_num: self.config.num,
            };
        }
        match self.shards.get(&shard) {
            Some(s) if self.config.num == config_num && s.status == ShardStatus::BePulling => {
                PullReply::Shard(s.content.clone())
            }
            // Already deleted, which happens only after the new owner
            // installed it: the requester is out of date and ignores this.
            _ => PullReply::Shard(ShardData::default()),
        }
    }

    /// What to put through the log after answering a pull. Correct code:
    /// nothing (the copy is kept until the new owner confirms). Planted bug
    /// `early-gc`: delete it right away.
    pub fn after_pull(&self, config_num: u64, shard: usize) -> Option<ShardCommand> {
        (self.has(ShardBug::EarlyGc)
            && self.config.num == config_num
            && self.status(shard) == Some(ShardStatus::BePulling))
        .then_some(ShardCommand::Delete { config_num, shard })
    }

    /// Answer the new owner's request to delete `shard` of `config_num`.
    pub fn delete_request(&self, config_num: u64, shard: usize) -> DeleteAnswer {
        if self.config.num < config_num {
            DeleteAnswer::NotReady
        } else if self.config.num == config_num
            && self.status(shard) == Some(ShardStatus::BePulling)
        {
            DeleteAnswer::Propose(ShardCommand::Delete { config_num, shard })
        } else {
            DeleteAnswer::Done
        }
    }

    /// An entry without a command at `index`.
    pub fn apply_noop(&mut self, index: Index) {
        self.applied = self.applied.max(index);
    }

    /// Apply the encoded command of the entry at `index`.
    pub fn apply(&mut self, index: Index, data: &[u8]) -> ShardApply {
        self.apply_noop(index);
        match ShardCommand::decode(data) {
            Ok(cmd) => self.apply_command(cmd),
            Err(e) => ShardApply::Undecodable(e.to_string()),
        }
    }

    /// Apply a decoded command.
    pub fn apply_command(&mut self, cmd: ShardCommand) -> ShardApply {
        match cmd {
            ShardCommand::Client(c) => self.apply_client(c),
            ShardCommand::Config(next) => self.apply_config(next),
            ShardCommand::Install {
                config_num,
                shard,
                content,
            } => self.apply_install(config_num, shard, content),
            ShardCommand::Delete { config_num, shard } => {
                if config_num != self.config.num
                    || self.status(shard) != Some(ShardStatus::BePulling)
                {
                    return ShardApply::Ignored(format!(
                        "delete of shard {shard} for config {config_num} at config {}",
                        self.config.num
                    ));
                }
                self.shards.remove(&shard);
                ShardApply::Deleted { config_num, shard }
            }
            ShardCommand::Confirmed { config_num, shard } => match self.shards.get_mut(&shard) {
                Some(s) if config_num == self.config.num && s.status == ShardStatus::GcWaiting => {
                    s.status = ShardStatus::Serving;
                    ShardApply::Confirmed { config_num, shard }
                }
                _ => ShardApply::Ignored(format!(
                    "confirmation of shard {shard} for config {config_num} at config {}",
                    self.config.num
                )),
            },
        }
    }

    fn apply_config(&mut self, next: Config) -> ShardApply {
        if next.num != self.config.num + 1
            || next.nshards() != self.nshards()
            || self.wants_config().is_none()
        {
            return ShardApply::Ignored(format!(
                "config {} at config {} (in flight: {})",
                next.num,
                self.config.num,
                self.wants_config().is_none()
            ));
        }
        for shard in 0..self.nshards() {
            let (old, new) = (self.config.owner(shard), next.owner(shard));
            if new == self.gid && old != self.gid {
                let status = if old == 0 {
                    ShardStatus::Serving
                } else {
                    ShardStatus::Pulling
                };
                self.shards.insert(
                    shard,
                    Shard {
                        status,
                        content: ShardData::default(),
                    },
                );
            } else if old == self.gid && new != self.gid {
                if new == 0 {
                    // Every group left: nobody will pull it.
                    self.shards.remove(&shard);
                } else if let Some(s) = self.shards.get_mut(&shard) {
                    s.status = ShardStatus::BePulling;
                }
            }
        }
        self.prev = std::mem::replace(&mut self.config, next);
        ShardApply::ConfigApplied {
            num: self.config.num,
        }
    }

    fn apply_install(
        &mut self,
        config_num: u64,
        shard: usize,
        mut content: ShardData,
    ) -> ShardApply {
        let skip_sessions = self.has(ShardBug::SkipSessionTransfer);
        match self.shards.get_mut(&shard) {
            Some(s) if config_num == self.config.num && s.status == ShardStatus::Pulling => {
                if skip_sessions {
                    content.sessions.clear();
                }
                s.content = content;
                s.status = ShardStatus::GcWaiting;
                ShardApply::Installed { config_num, shard }
            }
            _ => ShardApply::Ignored(format!(
                "install of shard {shard} for config {config_num} at config {}",
                self.config.num
            )),
        }
    }

    fn apply_client(&mut self, cmd: Command) -> ShardApply {
        let Command { client_id, seq, op } = cmd;
        let shard = key_to_shard(op.key(), self.nshards());
        if !self.serves(shard) {
            return ShardApply::WrongGroup {
                client_id,
                seq,
                wrong: self.wrong(shard),
            };
        }
        let content = &mut self
            .shards
            .get_mut(&shard)
            .expect("a served shard is held")
            .content;
        if let Some(s) = content.sessions.get(&client_id) {
            if seq == s.seq {
                return ShardApply::Client {
                    client_id,
                    seq,
                    reply: s.reply.clone(),
                    duplicate: true,
                };
            }
            if seq < s.seq {
                return ShardApply::Stale { client_id, seq };
            }
        }
        let reply = execute(&mut content.data, op);
        content.sessions.insert(
            client_id,
            ShardSession {
                seq,
                reply: reply.clone(),
            },
        );
        ShardApply::Client {
            client_id,
            seq,
            reply,
            duplicate: false,
        }
    }

    /// Encode the whole state, migration state included.
    pub fn snapshot(&self) -> Result<Vec<u8>, ShardError> {
        encode("shardkv snapshot", self)
    }

    /// Replace the state with a snapshot's content (the bugs stay).
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), ShardError> {
        let bugs = std::mem::take(&mut self.bugs);
        *self = decode("shardkv snapshot", bytes)?;
        self.bugs = bugs;
        Ok(())
    }
}

fn execute(data: &mut BTreeMap<String, String>, op: Op) -> Reply {
    match op {
        Op::Get { key } => Reply::Value(data.get(&key).cloned()),
        Op::Put { key, value } => {
            data.insert(key, value);
            Reply::Done
        }
        Op::Append { key, value } => {
            data.entry(key).or_default().push_str(&value);
            Reply::Done
        }
        Op::Cas { key, expected, new } => {
            let current = data.get(&key);
            if current == expected.as_ref() {
                data.insert(key, new.clone());
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

#[cfg(test)]
#[path = "shardkv_tests.rs"]
mod tests;
