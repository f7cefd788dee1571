//! Shard placement control a sharded system under test may offer the
//! nemesis: Join, Leave and Move through its shard controller, and Query of
//! a configuration. Systems without shards return `None` from
//! [`Db::shards`](crate::Db::shards). Shard groups are named by their gid
//! (1, 2, ...); gid 0 means "no group".

use crate::error::WorkloadError;

/// A shard configuration as the controller numbered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardLayout {
    /// The configuration number (0: nothing joined yet).
    pub num: u64,
    /// `owners[s]` is the gid owning shard `s` (0: unassigned).
    pub owners: Vec<u64>,
    /// The groups joined in this configuration, ascending.
    pub joined: Vec<u64>,
}

impl ShardLayout {
    /// The shards `gid` owns, ascending.
    pub fn shards_of(&self, gid: u64) -> Vec<usize> {
        (0..self.owners.len())
            .filter(|&s| self.owners[s] == gid)
            .collect()
    }
}

/// Configuration changes through the shard controller. Every method is
/// blocking; a change returns the number of the configuration it made. An
/// error may leave the change applied or not (the controller is a
/// replicated service reached over the network): query to find out.
pub trait ShardControl: Send + Sync {
    /// Every shard group the deployment runs, joined or not, ascending.
    fn groups(&self) -> Vec<u64>;
    /// Add (or re-add) groups; the controller rebalances every shard.
    fn join(&self, gids: &[u64]) -> Result<u64, WorkloadError>;
    /// Remove groups: every shard they own moves to the others.
    fn leave(&self, gids: &[u64]) -> Result<u64, WorkloadError>;
    /// Give `shard` to `gid` (a joined group).
    fn move_shard(&self, shard: usize, gid: u64) -> Result<u64, WorkloadError>;
    /// Configuration `num`, or the latest when `None`.
    fn query(&self, num: Option<u64>) -> Result<ShardLayout, WorkloadError>;
    /// The node names of group `gid`'s members (empty: no such group).
    fn members(&self, gid: u64) -> Vec<String>;
    /// The member of group `gid` that answers as leader, with the number of
    /// the configuration it has applied (`None`: no member answers as
    /// leader).
    fn group_leader(&self, gid: u64) -> Option<(String, u64)>;
}
