//! The database protocol (Jepsen's DB, LogFiles, Process and Pause in one):
//! the lifecycle of a system under test (set up, wait until it serves, tear
//! down, its log files and the processes `faultline clean` must stop when a
//! runner dies) and the node-level controls the nemesis and the runner need,
//! whatever the system is (kvnode processes, a sharded deployment, etcd
//! members, a user's own store). Blocking calls; the nemesis runs them on its
//! own thread. The runner holds a `Box<dyn Db>`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::WorkloadError;
use crate::membership_control::MembershipControl;
use crate::net_control::NetControl;
use crate::shard_control::ShardControl;
use crate::stop::StopFlag;

/// How long a freshly set up system may take to elect its first leader.
pub const STARTUP_LEADER: Duration = Duration::from_secs(20);

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

/// One running node process: what `faultline clean` stops if the runner
/// that started it dies. `command` is the process's name as the kernel
/// reports it (`/proc/<pid>/comm`), so a pid reused by another program is
/// never signalled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeProcess {
    pub node: String,
    pub pid: u32,
    pub command: String,
}

impl NodeProcess {
    /// Node `node`'s process `pid`, named as the kernel names it now
    /// (`/proc/<pid>/comm`; `?` when the process is already gone, which
    /// `faultline clean` never matches).
    pub fn of(node: impl Into<String>, pid: u32) -> NodeProcess {
        let command = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".to_string());
        NodeProcess {
            node: node.into(),
            pid,
            command,
        }
    }
}

/// A system under test: its lifecycle and node-level control.
pub trait Db: Send + Sync {
    /// Start every node (processes, network). Returns once they are
    /// started; [`await_ready`](Self::await_ready) waits until they serve.
    /// What it started is stopped by [`teardown`](Self::teardown), also
    /// when it fails part-way.
    fn setup(&self) -> Result<(), WorkloadError>;

    /// Wait until the system serves clients, within a budget of its own
    /// (by default: some node reports itself leader within
    /// [`STARTUP_LEADER`]); an error says what did not happen in time, or
    /// that `stop` was set.
    fn await_ready(&self, stop: &StopFlag) -> Result<(), WorkloadError> {
        await_startup_leader(self, stop)
    }

    /// After the final heal: wait until the system serves again (by
    /// default: a leader); false after `deadline` or once `stop` is set.
    fn await_recovery(&self, deadline: Instant, stop: &StopFlag) -> bool {
        wait_for_leader(self, deadline, stop).is_some()
    }

    /// Stop every node (SIGTERM, then SIGKILL) and remove what setup made
    /// (network, data) except the log files. Safe to call twice.
    fn teardown(&self) -> Result<(), WorkloadError>;

    /// Each node's log file as (node name, path); still readable after
    /// [`teardown`](Self::teardown).
    fn log_files(&self) -> Vec<(String, PathBuf)>;

    /// The node processes running now.
    fn processes(&self) -> Vec<NodeProcess>;

    /// One line saying what runs, e.g. "3 kvnodes in network namespaces".
    fn describe(&self) -> String;

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

    /// Power loss on a (killed) node's disk: drop what it did not fsync;
    /// `tear` cuts the newest write at a seeded byte. Returns what was lost
    /// (for the history). By default the system has no disk-fault layer.
    fn lose_unsynced(&self, node: &str, tear: bool) -> Result<serde_json::Value, WorkloadError> {
        let _ = tear;
        Err(WorkloadError::Db(format!(
            "cannot drop the unsynced writes of node {node}: this system runs without disk faults ({}); the power nemesis needs a single faultline KV group (--db faultline without --groups)",
            self.describe()
        )))
    }

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

    /// Membership changes of the replica group, when the system supports
    /// them (`None`: a fixed set of nodes).
    fn membership(&self) -> Option<&dyn MembershipControl> {
        None
    }

    /// The replica groups, each a list of node names (every node in exactly
    /// one). A single group by default; a sharded system lists its
    /// controller group and each shard group, so faults aimed at "a
    /// minority" or "the leader" hit one group's, never a majority of one.
    fn groups(&self) -> Vec<Vec<String>> {
        vec![self.nodes()]
    }

    /// The clock drift bound (percent of real time either way) the system's
    /// leader leases allow for, when it has leases; the clock nemesis keeps
    /// its rate faults within it (`None`: its default bound).
    fn clock_drift_pct(&self) -> Option<u32> {
        None
    }

    /// The current leader, if some answering node claims to be it.
    fn leader(&self) -> Option<String> {
        self.nodes()
            .into_iter()
            .find(|n| self.status(n).map(|s| s.role == "leader").unwrap_or(false))
    }
}

/// Poll node status until a leader shows up, `deadline` passes or `stop` is
/// set; returns the leader.
/// [`Db::await_ready`]'s default: some node reports itself leader within
/// [`STARTUP_LEADER`]; an error says it did not, or that `stop` was set.
pub fn await_startup_leader<D: Db + ?Sized>(db: &D, stop: &StopFlag) -> Result<(), WorkloadError> {
    match wait_for_leader(db, Instant::now() + STARTUP_LEADER, stop) {
        Some(_) => Ok(()),
        None if stop.is_stopped() => Err(WorkloadError::Db(
            "interrupted while waiting for a leader".to_string(),
        )),
        None => Err(WorkloadError::Db(format!(
            "no leader elected within {STARTUP_LEADER:?}"
        ))),
    }
}

pub fn wait_for_leader<D: Db + ?Sized>(
    db: &D,
    deadline: Instant,
    stop: &StopFlag,
) -> Option<String> {
    loop {
        if let Some(l) = db.leader() {
            return Some(l);
        }
        if Instant::now() >= deadline
            || !stop.sleep_until((Instant::now() + Duration::from_millis(50)).min(deadline))
        {
            return None;
        }
    }
}
