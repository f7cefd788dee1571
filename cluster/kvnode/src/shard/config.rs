//! A shard configuration: its number, which group owns each shard, and the
//! servers of each group.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A replica group id; 0 means "no group" (shard unassigned).
pub type Gid = u64;

/// Default number of shards.
pub const DEFAULT_SHARDS: usize = 10;

/// One configuration. Configuration 0 has no groups and every shard on gid 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub num: u64,
    /// `shards[s]` is the group owning shard `s` (0: nobody).
    pub shards: Vec<Gid>,
    /// Each group's server addresses (`host:port`).
    pub groups: BTreeMap<Gid, Vec<String>>,
}

impl Config {
    /// Configuration 0 with `nshards` unassigned shards.
    pub fn initial(nshards: usize) -> Config {
        Config {
            num: 0,
            shards: vec![0; nshards.max(1)],
            groups: BTreeMap::new(),
        }
    }

    pub fn nshards(&self) -> usize {
        self.shards.len()
    }

    /// The owner of `shard` (0 when out of range or unassigned).
    pub fn owner(&self, shard: usize) -> Gid {
        self.shards.get(shard).copied().unwrap_or(0)
    }

    /// The servers of `gid` (empty when unknown).
    pub fn servers(&self, gid: Gid) -> &[String] {
        self.groups.get(&gid).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The shards `gid` owns, ascending.
    pub fn shards_of(&self, gid: Gid) -> Vec<usize> {
        (0..self.shards.len())
            .filter(|&s| self.shards[s] == gid)
            .collect()
    }
}
