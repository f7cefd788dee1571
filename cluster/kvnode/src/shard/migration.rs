//! What a shard group puts through its log (client operations, the next
//! configuration, installed / deleted / confirmed shards) and what travels
//! between groups when a shard moves (its data and session table).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::Config;
use super::error::{ShardError, decode, encode};
use crate::kv::{Command, Reply};

/// One client's last applied operation on a shard (exactly-once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSession {
    pub seq: u64,
    pub reply: Reply,
}

/// A shard's content: its keys and its session table. It moves with the
/// shard, so a client retrying across a migration is still deduplicated.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShardData {
    pub data: BTreeMap<String, String>,
    pub sessions: BTreeMap<u64, ShardSession>,
}

impl ShardData {
    /// Bytes of keys and values (what Challenge 1 wants to see shrink).
    pub fn bytes(&self) -> usize {
        self.data.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

/// A shard group log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardCommand {
    /// A client write (or a logged read).
    Client(Command),
    /// Move to this configuration (applied only if it is the next one).
    Config(Config),
    /// The new owner installs a pulled shard for configuration `config_num`.
    Install {
        config_num: u64,
        shard: usize,
        content: ShardData,
    },
    /// The old owner deletes a shard the new owner has installed.
    Delete { config_num: u64, shard: usize },
    /// The new owner learns the old owner deleted its copy.
    Confirmed { config_num: u64, shard: usize },
}

impl ShardCommand {
    pub fn encode(&self) -> Result<Vec<u8>, ShardError> {
        encode("shard command", self)
    }

    pub fn decode(bytes: &[u8]) -> Result<ShardCommand, ShardError> {
        decode("shard command", bytes)
    }
}

/// The old owner's answer to a pull of (configuration, shard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PullReply {
    /// The old owner has not reached that configuration yet: retry later.
    NotReady { config_num: u64 },
    /// The shard's content as of the handoff.
    Shard(ShardData),
}
