//! `LoopbackHarness`: N kvnode processes on 127.0.0.1 ports. Layout of its
//! run folder:
//! ```text
//! <run>/nodes/<id>/data      the node's data directory
//! <run>/nodes/<id>/node.log  its stdout and stderr (appended across restarts)
//! ```
//! Dropping the harness SIGKILLs and reaps every process it started.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use faultline_raft::NodeId;

use super::Harness;
use super::error::HarnessError;
use super::locate::find_kvnode;
use super::ports::free_loopback_addrs;
use super::process::NodeProcess;
use crate::client::{ClientOptions, KvClient};
use crate::node::NodeStatus;

/// How to start a loopback group.
#[derive(Debug, Clone)]
pub struct LoopbackOptions {
    /// Number of members (ids 1..=nodes).
    pub nodes: usize,
    /// The run folder (created if missing).
    pub run_dir: PathBuf,
    /// The kvnode binary (default: [`find_kvnode`]).
    pub kvnode: Option<PathBuf>,
    /// Planted bugs passed to every member (`--bug NAME`).
    pub bugs: Vec<String>,
    /// Further kvnode flags for every member (e.g. `--snapshot-entries 50`).
    pub extra_args: Vec<String>,
    /// The group id.
    pub group: u64,
}

impl LoopbackOptions {
    pub fn new(nodes: usize, run_dir: impl Into<PathBuf>) -> LoopbackOptions {
        LoopbackOptions {
            nodes,
            run_dir: run_dir.into(),
            kvnode: None,
            bugs: Vec::new(),
            extra_args: Vec::new(),
            group: 0,
        }
    }
}

/// A group of kvnode processes on loopback.
pub struct LoopbackHarness {
    kvnode: PathBuf,
    opts: LoopbackOptions,
    addrs: BTreeMap<NodeId, SocketAddr>,
    procs: BTreeMap<NodeId, NodeProcess>,
    /// Per-node extra flags (added after the group's), for the next start.
    node_args: BTreeMap<NodeId, Vec<String>>,
    status_client: KvClient,
}

impl LoopbackHarness {
    /// Start every member.
    pub fn start(opts: LoopbackOptions) -> Result<LoopbackHarness, HarnessError> {
        let kvnode = match &opts.kvnode {
            Some(p) => p.clone(),
            None => find_kvnode()?,
        };
        let ports = free_loopback_addrs(opts.nodes)
            .map_err(HarnessError::io("reserve ports on", Path::new("127.0.0.1")))?;
        let addrs: BTreeMap<NodeId, SocketAddr> = (1..=opts.nodes as NodeId).zip(ports).collect();
        let status_client = KvClient::new(
            crate::client::fresh_client_id(),
            &addrs.iter().map(|(&id, a)| (id, a.to_string())).collect(),
            ClientOptions::default(),
        );
        let mut h = LoopbackHarness {
            kvnode,
            opts,
            addrs,
            procs: BTreeMap::new(),
            node_args: BTreeMap::new(),
            status_client,
        };
        for id in h.node_ids() {
            h.spawn(id)?;
        }
        Ok(h)
    }

    /// The folder of one member (`<run>/nodes/<id>`).
    pub fn node_dir(&self, id: NodeId) -> PathBuf {
        self.opts.run_dir.join("nodes").join(id.to_string())
    }

    /// The data directory of one member.
    pub fn data_dir(&self, id: NodeId) -> PathBuf {
        self.node_dir(id).join("data")
    }

    /// Extra flags for one member from its next (re)start on.
    pub fn set_node_args(&mut self, id: NodeId, args: Vec<String>) {
        self.node_args.insert(id, args);
    }

    /// The command-line arguments member `id` is started with.
    pub fn args_for(&self, id: NodeId) -> Vec<String> {
        let peers = self
            .addrs
            .iter()
            .map(|(id, a)| format!("{id}={a}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut args = vec![
            "--id".to_string(),
            id.to_string(),
            "--group".into(),
            self.opts.group.to_string(),
            "--peers".into(),
            peers,
            "--data".into(),
            self.data_dir(id).display().to_string(),
        ];
        for bug in &self.opts.bugs {
            args.push("--bug".into());
            args.push(bug.clone());
        }
        args.extend(self.opts.extra_args.iter().cloned());
        args.extend(self.node_args.get(&id).into_iter().flatten().cloned());
        args
    }

    fn spawn(&mut self, id: NodeId) -> Result<(), HarnessError> {
        let dir = self.node_dir(id);
        std::fs::create_dir_all(&dir).map_err(HarnessError::io("create", &dir))?;
        let args = self.args_for(id);
        let p = NodeProcess::spawn(id, &self.kvnode, &args, &dir.join("node.log"))?;
        tracing::debug!(id, pid = p.pid(), "started kvnode");
        self.procs.insert(id, p);
        Ok(())
    }

    fn process(&mut self, id: NodeId) -> Result<&mut NodeProcess, HarnessError> {
        if !self.addrs.contains_key(&id) {
            return Err(HarnessError::UnknownNode(id));
        }
        self.procs.get_mut(&id).ok_or(HarnessError::NotRunning(id))
    }

    /// Wait up to `timeout` for member `id` to exit on its own (e.g. after a
    /// refused start); its exit status.
    pub fn wait_exit(
        &mut self,
        id: NodeId,
        timeout: Duration,
    ) -> Result<Option<ExitStatus>, HarnessError> {
        Ok(self.process(id)?.wait_exit(timeout))
    }

    /// The content of member `id`'s log so far.
    pub fn read_log(&self, id: NodeId) -> String {
        std::fs::read_to_string(self.node_dir(id).join("node.log")).unwrap_or_default()
    }
}

impl Harness for LoopbackHarness {
    fn node_ids(&self) -> Vec<NodeId> {
        self.addrs.keys().copied().collect()
    }

    fn addresses(&self) -> BTreeMap<NodeId, String> {
        self.addrs
            .iter()
            .map(|(&id, a)| (id, a.to_string()))
            .collect()
    }

    fn pid(&self, id: NodeId) -> Option<u32> {
        self.procs.get(&id).map(NodeProcess::pid)
    }

    fn is_running(&mut self, id: NodeId) -> bool {
        self.procs
            .get_mut(&id)
            .is_some_and(|p| p.try_exit().is_none())
    }

    fn kill(&mut self, id: NodeId) -> Result<(), HarnessError> {
        let status = self.process(id)?.kill();
        tracing::debug!(id, ?status, "killed kvnode");
        self.procs.remove(&id);
        Ok(())
    }

    fn restart(&mut self, id: NodeId) -> Result<(), HarnessError> {
        if !self.addrs.contains_key(&id) {
            return Err(HarnessError::UnknownNode(id));
        }
        if self.is_running(id) {
            return Err(HarnessError::AlreadyRunning(id));
        }
        self.procs.remove(&id);
        self.spawn(id)
    }

    fn pause(&mut self, id: NodeId) -> Result<(), HarnessError> {
        self.process(id)?.signal(libc::SIGSTOP, "SIGSTOP")
    }

    fn resume(&mut self, id: NodeId) -> Result<(), HarnessError> {
        self.process(id)?.signal(libc::SIGCONT, "SIGCONT")
    }

    async fn status(&self, id: NodeId, timeout: Duration) -> Result<NodeStatus, HarnessError> {
        if !self.addrs.contains_key(&id) {
            return Err(HarnessError::UnknownNode(id));
        }
        self.status_client
            .status(id, timeout)
            .await
            .map_err(|e| HarnessError::Status {
                id,
                detail: e.to_string(),
            })
    }

    fn log_paths(&self) -> BTreeMap<NodeId, PathBuf> {
        self.node_ids()
            .into_iter()
            .map(|id| (id, self.node_dir(id).join("node.log")))
            .collect()
    }

    fn stop_all(&mut self) -> Result<(), HarnessError> {
        for (id, mut p) in std::mem::take(&mut self.procs) {
            let status = p.terminate(Duration::from_secs(3));
            tracing::debug!(id, ?status, "stopped kvnode");
        }
        Ok(())
    }
}

impl Drop for LoopbackHarness {
    fn drop(&mut self) {
        // NodeProcess::drop SIGKILLs and reaps each one.
        self.procs.clear();
    }
}
