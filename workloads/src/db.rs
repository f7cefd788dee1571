//! The database protocol (Jepsen's DB): the node-level controls the nemesis
//! and the runner need from a system under test, whatever it is (kvnode
//! processes, etcd members). Blocking calls; the nemesis runs them on its own
//! thread.

use serde::Serialize;

use crate::error::WorkloadError;
use crate::net_control::NetControl;
use crate::shard_control::ShardControl;

/// What a node says about itself (the fields of DESIGN.md's node status the
/// nemesis and the runner use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeState {
    pub node: String,
    /// `leader`, `follower`, `candidate`, ...
    pub role: String,
    pub term: u64,
    /// The leader this node believes in, by node name.
    pub leader: Option<String>,
    pub applied: u64,
}

/// Node-level control of a running system under test.
pub trait Db: Send + Sync {
    /// The node names, in a stable order.
    fn nodes(&self) -> Vec<String>;
    /// SIGKILL the node's process (its data stays).
    fn kill(&self, node: &str) -> Result<(), WorkloadError>;
    /// Start a killed node again on its data.
    fn restart(&self, node: &str) -> Result<(), WorkloadError>;
    /// SIGSTOP the node's process.
    fn pause(&self, node: &str) -> Result<(), WorkloadError>;
    /// SIGCONT the node's process.
    fn resume(&self, node: &str) -> Result<(), WorkloadError>;
    /// Ask a node for its status; `Err` when it does not answer.
    fn status(&self, node: &str) -> Result<NodeState, WorkloadError>;

    /// Network and clock faults, when the nodes run in network namespaces
    /// (`None`: partitions, packet loss and clock skew are unavailable).
    fn network(&self) -> Option<&dyn NetControl> {
        None
    }

    /// Shard placement through the shard controller, when the system is
    /// sharded (`None`: a single replica group, no shard moves).
    fn shards(&self) -> Option<&dyn ShardControl> {
        None
    }

    /// The replica groups, each a list of node names (every node in exactly
    /// one). A single group by default; a sharded system lists its
    /// controller group and each shard group, so faults aimed at "a
    /// minority" or "the leader" hit one group's, never a majority of one.
    fn groups(&self) -> Vec<Vec<String>> {
        vec![self.nodes()]
    }

    /// The current leader, if some answering node claims to be it.
    fn leader(&self) -> Option<String> {
        self.nodes()
            .into_iter()
            .find(|n| self.status(n).map(|s| s.role == "leader").unwrap_or(false))
    }
}
