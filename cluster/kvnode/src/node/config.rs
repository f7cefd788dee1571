//! What one kvnode is started with, and the timing it runs at.
//!
//! Timing: the core is ticked every `tick` (10 ms by default); an election
//! timeout is drawn from `[election_ticks, 2 * election_ticks)` ticks
//! (20: 200-400 ms), the leader heartbeats every `heartbeat_ticks` (2: 20 ms).
//! The election timeout is well above the heartbeat and above an fsync on a
//! busy shared disk, so a loaded but healthy leader is not deposed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use faultline_raft::NodeId;

use crate::bugs::NodeBugs;
use crate::kv::DEFAULT_MAX_SESSIONS;

/// Default tick interval.
pub const DEFAULT_TICK: Duration = Duration::from_millis(10);
/// Default election timeout base, in ticks.
pub const DEFAULT_ELECTION_TICKS: u32 = 20;
/// Default heartbeat interval, in ticks.
pub const DEFAULT_HEARTBEAT_TICKS: u32 = 2;
/// Default: snapshot and compact the log once it holds this many applied
/// entries beyond the last snapshot.
pub const DEFAULT_SNAPSHOT_ENTRIES: u64 = 10_000;

/// Which replicated state machine a kvnode runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeRole {
    /// The key/value store (the default).
    #[default]
    Kv,
    /// The shard controller (`shard::CtrlerState`).
    Ctrler,
    /// A shard group (`shard::ShardKv`); its gid is the node's group.
    ShardKv,
}

impl std::str::FromStr for NodeRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "kv" => Ok(NodeRole::Kv),
            "ctrler" => Ok(NodeRole::Ctrler),
            "shardkv" => Ok(NodeRole::ShardKv),
            other => Err(format!(
                "unknown role {other:?}; known: kv, ctrler, shardkv"
            )),
        }
    }
}

/// Configuration of one kvnode.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub id: NodeId,
    pub group: u64,
    /// Every member of the group (this node included) and its address.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// This node joins a running group whose initial voters are these (not
    /// this node); `peers` then gives addresses only. It votes once a change
    /// adding it is in its log. `None`: the initial voters are `peers`.
    pub initial_voters: Option<Vec<NodeId>>,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub bugs: NodeBugs,
    pub tick: Duration,
    pub election_ticks: u32,
    pub heartbeat_ticks: u32,
    pub snapshot_entries: u64,
    pub max_sessions: usize,
    /// Sessions idle for this many applied entries expire.
    pub session_idle_entries: u64,
    /// Largest RPC frame accepted.
    pub max_frame_size: u32,
    /// The state machine this node runs.
    pub role: NodeRole,
    /// Number of shards (controller and shard group roles).
    pub nshards: usize,
    /// The shard controller's members (shard group role).
    pub ctrlers: BTreeMap<NodeId, String>,
    /// Planted bugs of the shard group layer.
    pub shard_bugs: crate::shard::ShardBugs,
    /// How the leader serves Gets: ReadIndex rounds or leader leases.
    pub read_mode: faultline_raft::ReadMode,
    /// Lease mode: the clock drift bound (percent) the lease allows for.
    pub max_clock_drift_pct: u32,
}

impl NodeConfig {
    /// A configuration with the default timing and limits.
    pub fn new(
        id: NodeId,
        group: u64,
        peers: BTreeMap<NodeId, SocketAddr>,
        listen: SocketAddr,
        data_dir: PathBuf,
    ) -> NodeConfig {
        NodeConfig {
            id,
            group,
            peers,
            initial_voters: None,
            listen,
            data_dir,
            bugs: NodeBugs::default(),
            tick: DEFAULT_TICK,
            election_ticks: DEFAULT_ELECTION_TICKS,
            heartbeat_ticks: DEFAULT_HEARTBEAT_TICKS,
            snapshot_entries: DEFAULT_SNAPSHOT_ENTRIES,
            max_sessions: DEFAULT_MAX_SESSIONS,
            session_idle_entries: 1_000_000,
            max_frame_size: crate::rpc::DEFAULT_MAX_FRAME_SIZE,
            role: NodeRole::Kv,
            nshards: crate::shard::DEFAULT_SHARDS,
            ctrlers: BTreeMap::new(),
            shard_bugs: crate::shard::ShardBugs::new(),
            read_mode: faultline_raft::ReadMode::ReadIndex,
            max_clock_drift_pct: faultline_raft::DEFAULT_MAX_CLOCK_DRIFT_PCT,
        }
    }
}
