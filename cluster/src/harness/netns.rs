//! `NetnsHarness`: N kvnode processes, each in its own network namespace
//! (see [`crate::netns`]) and under libfaketime, listening only on its
//! namespace address; the runner on the host reaches them through the run's
//! bridge. Each node is started as `ip netns exec <ns> env <run marker, faketime vars>
//! kvnode ...` (both exec in place, so the child's pid is kvnode's and
//! signals reach it). Run folder layout as in the loopback harness:
//! `<run>/nodes/<id>/{data,node.log}`. Dropping the harness kills and reaps
//! every process, then removes the namespaces, devices, rules and clock
//! files.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use faultline_raft::NodeId;

use super::Harness;
use super::error::HarnessError;
use super::locate::find_kvnode;
use super::process::NodeProcess;
use crate::client::{ClientOptions, KvClient};
use crate::netns::cmd::{ip, tool};
use crate::netns::{NetnsError, Network, NetworkOptions};
use crate::node::NodeStatus;

/// The port every node serves on (each namespace has its own port space).
pub const NODE_PORT: u16 = 7400;

/// How to start a group in namespaces.
#[derive(Debug, Clone)]
pub struct NetnsOptions {
    /// Number of members (ids 1..=nodes).
    pub nodes: usize,
    /// The run folder (created if missing).
    pub run_dir: PathBuf,
    /// The kvnode binary (default: [`find_kvnode`]).
    pub kvnode: Option<PathBuf>,
    /// Planted bugs passed to every member.
    pub bugs: Vec<String>,
    /// Further kvnode flags for every member.
    pub extra_args: Vec<String>,
    /// The group id.
    pub group: u64,
    /// Start nodes under libfaketime (clock faults need it).
    pub faketime: bool,
    /// Let libfaketime fake the monotonic clock too (default off: the wall
    /// clock skews, Raft timers run true).
    pub fake_monotonic: bool,
}

impl NetnsOptions {
    pub fn new(nodes: usize, run_dir: impl Into<PathBuf>) -> NetnsOptions {
        NetnsOptions {
            nodes,
            run_dir: run_dir.into(),
            kvnode: None,
            bugs: Vec::new(),
            extra_args: Vec::new(),
            group: 0,
            faketime: true,
            fake_monotonic: false,
        }
    }
}

/// A group of kvnode processes in network namespaces.
pub struct NetnsHarness {
    kvnode: PathBuf,
    ip: PathBuf,
    env: PathBuf,
    opts: NetnsOptions,
    network: Arc<Network>,
    addrs: BTreeMap<NodeId, SocketAddr>,
    procs: BTreeMap<NodeId, NodeProcess>,
    node_args: BTreeMap<NodeId, Vec<String>>,
    status_client: KvClient,
}

impl NetnsHarness {
    /// Build the network and start every member. Environment problems (not
    /// root, tools or libfaketime missing) come back as [`NetnsError`] with
    /// advice; nothing is left behind on failure.
    pub fn start(opts: NetnsOptions) -> Result<NetnsHarness, NetnsError> {
        let kvnode = match &opts.kvnode {
            Some(p) => p.clone(),
            None => find_kvnode().map_err(|e| NetnsError::BadParameter(e.to_string()))?,
        };
        let (ip, env) = (ip()?, tool("env", "coreutils")?);
        let network = Network::setup(&NetworkOptions {
            nodes: (1..=opts.nodes as NodeId).collect(),
            faketime: opts.faketime,
            fake_monotonic: opts.fake_monotonic,
        })?;
        let mut addrs = BTreeMap::new();
        for id in network.node_ids() {
            addrs.insert(id, SocketAddr::new(network.node(id)?.ip.into(), NODE_PORT));
        }
        let status_client = KvClient::new(
            crate::client::fresh_client_id(),
            &addrs.iter().map(|(&id, a)| (id, a.to_string())).collect(),
            ClientOptions::default(),
        );
        let mut h = NetnsHarness {
            kvnode,
            ip,
            env,
            opts,
            network: Arc::new(network),
            addrs,
            procs: BTreeMap::new(),
            node_args: BTreeMap::new(),
            status_client,
        };
        for id in h.node_ids() {
            h.spawn(id)
                .map_err(|e| NetnsError::BadParameter(e.to_string()))?;
        }
        Ok(h)
    }

    /// The run's network: namespaces, rules, clocks (shareable with a `Db`).
    pub fn network(&self) -> Arc<Network> {
        self.network.clone()
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

    /// The full command line (after `ip`) member `id` is started with.
    pub fn command_for(&self, id: NodeId) -> Result<Vec<String>, NetnsError> {
        let node = self.network.node(id)?;
        let peers = self
            .addrs
            .iter()
            .map(|(id, a)| format!("{id}={a}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut args = vec![
            "netns".to_string(),
            "exec".into(),
            node.namespace.clone(),
            self.env.display().to_string(),
        ];
        args.extend(self.network.node_env(id)?);
        args.extend([
            self.kvnode.display().to_string(),
            "--id".into(),
            id.to_string(),
            "--group".into(),
            self.opts.group.to_string(),
            "--peers".into(),
            peers,
            "--listen".into(),
            self.addrs[&id].to_string(),
            "--data".into(),
            self.data_dir(id).display().to_string(),
        ]);
        for bug in &self.opts.bugs {
            args.push("--bug".into());
            args.push(bug.clone());
        }
        args.extend(self.opts.extra_args.iter().cloned());
        args.extend(self.node_args.get(&id).into_iter().flatten().cloned());
        Ok(args)
    }

    fn spawn(&mut self, id: NodeId) -> Result<(), HarnessError> {
        let dir = self.node_dir(id);
        std::fs::create_dir_all(&dir).map_err(HarnessError::io("create", &dir))?;
        let args = self.command_for(id).map_err(|e| HarnessError::Status {
            id,
            detail: e.to_string(),
        })?;
        let p = NodeProcess::spawn(id, &self.ip, &args, &dir.join("node.log"))?;
        if let Err(e) = self.network.record_pid(p.pid()) {
            tracing::warn!(id, error = %e, "cannot record kvnode pid");
        }
        tracing::debug!(id, pid = p.pid(), "started kvnode in its namespace");
        self.procs.insert(id, p);
        Ok(())
    }

    fn process(&mut self, id: NodeId) -> Result<&mut NodeProcess, HarnessError> {
        if !self.addrs.contains_key(&id) {
            return Err(HarnessError::UnknownNode(id));
        }
        self.procs.get_mut(&id).ok_or(HarnessError::NotRunning(id))
    }

    /// The content of member `id`'s log so far.
    pub fn read_log(&self, id: NodeId) -> String {
        std::fs::read_to_string(self.node_dir(id).join("node.log")).unwrap_or_default()
    }

    /// Stop every process and remove the network now (what Drop does).
    /// Idempotent.
    pub fn teardown(&mut self) -> Vec<String> {
        self.procs.clear();
        self.network.teardown()
    }
}

impl Harness for NetnsHarness {
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

impl Drop for NetnsHarness {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Either harness behind one type, for a runner that picks the mode at run
/// time (`Harness` has async methods, so it is not object-safe).
pub enum AnyHarness {
    Loopback(super::LoopbackHarness),
    Netns(NetnsHarness),
}

impl AnyHarness {
    /// `"netns"` or `"loopback"` (what test.json records).
    pub fn mode(&self) -> &'static str {
        match self {
            AnyHarness::Loopback(_) => "loopback",
            AnyHarness::Netns(_) => "netns",
        }
    }

    /// The namespace network (partitions, loss, clocks), when there is one.
    pub fn network(&self) -> Option<Arc<Network>> {
        match self {
            AnyHarness::Loopback(_) => None,
            AnyHarness::Netns(h) => Some(h.network()),
        }
    }
}

macro_rules! each {
    ($self:expr, $h:ident => $e:expr) => {
        match $self {
            AnyHarness::Loopback($h) => $e,
            AnyHarness::Netns($h) => $e,
        }
    };
}

impl Harness for AnyHarness {
    fn node_ids(&self) -> Vec<NodeId> {
        each!(self, h => h.node_ids())
    }
    fn addresses(&self) -> BTreeMap<NodeId, String> {
        each!(self, h => h.addresses())
    }
    fn pid(&self, id: NodeId) -> Option<u32> {
        each!(self, h => h.pid(id))
    }
    fn is_running(&mut self, id: NodeId) -> bool {
        each!(self, h => h.is_running(id))
    }
    fn kill(&mut self, id: NodeId) -> Result<(), HarnessError> {
        each!(self, h => h.kill(id))
    }
    fn restart(&mut self, id: NodeId) -> Result<(), HarnessError> {
        each!(self, h => h.restart(id))
    }
    fn pause(&mut self, id: NodeId) -> Result<(), HarnessError> {
        each!(self, h => h.pause(id))
    }
    fn resume(&mut self, id: NodeId) -> Result<(), HarnessError> {
        each!(self, h => h.resume(id))
    }
    async fn status(&self, id: NodeId, timeout: Duration) -> Result<NodeStatus, HarnessError> {
        each!(self, h => h.status(id, timeout).await)
    }
    async fn wait_for_leader(&self, timeout: Duration) -> Result<NodeId, HarnessError> {
        each!(self, h => h.wait_for_leader(timeout).await)
    }
    fn log_paths(&self) -> BTreeMap<NodeId, PathBuf> {
        each!(self, h => h.log_paths())
    }
    fn stop_all(&mut self) -> Result<(), HarnessError> {
        each!(self, h => h.stop_all())
    }
}
