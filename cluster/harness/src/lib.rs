//! Starting and breaking a KV group. [`Harness`] is what tests, the nemesis
//! and the benchmark use; [`LoopbackHarness`] implements it with kvnode
//! processes on 127.0.0.1 ports, [`NetnsHarness`] with one network namespace
//! per process, [`AnyHarness`] is either; both keep their members in the
//! shared member table of `members`; [`ssh::SshHarness`] runs the members on
//! remote hosts over SSH. Whatever a harness starts, it stops, also on panic.

pub mod deployment;
pub mod disk;
mod error;
pub mod etcd;
mod load;
mod locate;
mod loopback;
mod members;
pub mod netns;
mod netns_group;
mod ports;
mod process;
pub mod procs;
pub mod ssh;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faultline_raft::NodeId;

pub use error::HarnessError;
pub use load::{
    KindReport, LoadOptions, LoadReport, bench_loopback, bench_loopback_with, process_cpu_time,
    run_load,
};
pub(crate) use load::{LoadRun, OpStream, Samples};
pub use locate::find_kvnode;
pub use loopback::{LoopbackHarness, LoopbackOptions};
pub use netns_group::{AnyHarness, NODE_PORT, NetnsHarness, NetnsOptions};

use faultline_kvnode::client::Committed;
use faultline_kvnode::node::NodeStatus;

/// Control of one running group of kvnode processes.
#[allow(async_fn_in_trait)]
pub trait Harness {
    /// The members' ids, sorted.
    fn node_ids(&self) -> Vec<NodeId>;
    /// Where each member serves clients (host:port).
    fn addresses(&self) -> BTreeMap<NodeId, String>;
    /// The OS process id of a running member.
    fn pid(&self, id: NodeId) -> Option<u32>;
    /// Whether the member's process is alive (paused counts as alive).
    fn is_running(&mut self, id: NodeId) -> bool;
    /// SIGKILL the member and reap it; its data directory stays.
    fn kill(&mut self, id: NodeId) -> Result<(), HarnessError>;
    /// Start a killed (or exited) member again on the same data directory.
    fn restart(&mut self, id: NodeId) -> Result<(), HarnessError>;
    /// SIGSTOP the member.
    fn pause(&mut self, id: NodeId) -> Result<(), HarnessError>;
    /// SIGCONT the member.
    fn resume(&mut self, id: NodeId) -> Result<(), HarnessError>;
    /// The member's status (DESIGN.md "Node status").
    async fn status(&self, id: NodeId, timeout: Duration) -> Result<NodeStatus, HarnessError>;
    /// Wait until some member reports itself leader (the highest term wins
    /// when two claim it) and return it.
    async fn wait_for_leader(&self, timeout: Duration) -> Result<NodeId, HarnessError> {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            let mut best: Option<(u64, NodeId)> = None;
            for id in self.node_ids() {
                if let Ok(s) = self.status(id, Duration::from_millis(300)).await
                    && s.role == "leader"
                    && best.is_none_or(|(term, _)| s.term > term)
                {
                    best = Some((s.term, id));
                }
            }
            if let Some((_, id)) = best {
                return Ok(id);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(HarnessError::NoLeader(timeout))
    }
    /// The log file of each member.
    fn log_paths(&self) -> BTreeMap<NodeId, PathBuf>;
    /// Copy every member's log to `dest/<id>/node.log`.
    fn collect_logs(&self, dest: &Path) -> Result<Vec<PathBuf>, HarnessError> {
        let mut out = Vec::new();
        for (id, src) in self.log_paths() {
            let dir = dest.join(id.to_string());
            std::fs::create_dir_all(&dir).map_err(HarnessError::io("create", &dir))?;
            let to = dir.join("node.log");
            if src != to {
                std::fs::copy(&src, &to).map_err(HarnessError::io("copy", &src))?;
            }
            out.push(to);
        }
        Ok(out)
    }
    /// Stop every member (SIGTERM, then SIGKILL after a grace period).
    fn stop_all(&mut self) -> Result<(), HarnessError>;
    /// Power loss on member `id`'s disk: drop what it did not fsync
    /// (`tear`: cut the newest write at a seeded byte). Only for a group
    /// started with disk faults; the member should be killed first.
    fn lose_unsynced(&mut self, id: NodeId, tear: bool) -> Result<serde_json::Value, HarnessError> {
        let _ = (id, tear);
        Err(HarnessError::NoDiskFaults)
    }
    /// Start a fresh member: a new id (one above every id so far), a new
    /// address (in namespaces: a namespace of its own), an empty data
    /// directory, `--join` with the group's initial members. It is not in
    /// the group's configuration until [`add_member`](Self::add_member).
    fn start_new_member(&mut self) -> Result<NodeId, HarnessError>;
    /// Ask the group (its leader) to make member `id` a voter, its address
    /// going with the change; returns once the change committed.
    async fn add_member(&self, id: NodeId, deadline: Duration) -> Result<Committed, HarnessError>;
    /// Ask the group to remove member `id` (its process keeps running, and
    /// refuses clients as a non-member); returns once the change committed.
    async fn remove_member(
        &self,
        id: NodeId,
        deadline: Duration,
    ) -> Result<Committed, HarnessError>;
}

/// A boxed harness is a harness (a sharded deployment boxes its groups so
/// it stays small wherever it is held by value).
impl<H: Harness + ?Sized> Harness for Box<H> {
    fn node_ids(&self) -> Vec<NodeId> {
        (**self).node_ids()
    }
    fn addresses(&self) -> BTreeMap<NodeId, String> {
        (**self).addresses()
    }
    fn pid(&self, id: NodeId) -> Option<u32> {
        (**self).pid(id)
    }
    fn is_running(&mut self, id: NodeId) -> bool {
        (**self).is_running(id)
    }
    fn kill(&mut self, id: NodeId) -> Result<(), HarnessError> {
        (**self).kill(id)
    }
    fn restart(&mut self, id: NodeId) -> Result<(), HarnessError> {
        (**self).restart(id)
    }
    fn pause(&mut self, id: NodeId) -> Result<(), HarnessError> {
        (**self).pause(id)
    }
    fn resume(&mut self, id: NodeId) -> Result<(), HarnessError> {
        (**self).resume(id)
    }
    async fn status(&self, id: NodeId, timeout: Duration) -> Result<NodeStatus, HarnessError> {
        (**self).status(id, timeout).await
    }
    async fn wait_for_leader(&self, timeout: Duration) -> Result<NodeId, HarnessError> {
        (**self).wait_for_leader(timeout).await
    }
    fn log_paths(&self) -> BTreeMap<NodeId, PathBuf> {
        (**self).log_paths()
    }
    fn collect_logs(&self, dest: &Path) -> Result<Vec<PathBuf>, HarnessError> {
        (**self).collect_logs(dest)
    }
    fn stop_all(&mut self) -> Result<(), HarnessError> {
        (**self).stop_all()
    }
    fn lose_unsynced(&mut self, id: NodeId, tear: bool) -> Result<serde_json::Value, HarnessError> {
        (**self).lose_unsynced(id, tear)
    }
    fn start_new_member(&mut self) -> Result<NodeId, HarnessError> {
        (**self).start_new_member()
    }
    async fn add_member(&self, id: NodeId, deadline: Duration) -> Result<Committed, HarnessError> {
        (**self).add_member(id, deadline).await
    }
    async fn remove_member(
        &self,
        id: NodeId,
        deadline: Duration,
    ) -> Result<Committed, HarnessError> {
        (**self).remove_member(id, deadline).await
    }
}
