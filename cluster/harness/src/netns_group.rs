//! `NetnsHarness`: N kvnode processes, each in its own network namespace
//! (see [`crate::netns`]) and under libfaketime, listening only on its
//! namespace address; the runner on the host reaches them through the run's
//! bridge. A harness either builds its own network ([`NetnsHarness::start`])
//! or places its members on nodes of a network shared with other groups
//! ([`NetnsHarness::start_on`], how a sharded deployment puts the controller
//! group and every shard group on one bridge). Each node is started as `ip netns exec <ns> env <run marker, faketime vars>
//! kvnode ...` (both exec in place, so the child's pid is kvnode's and
//! signals reach it). Run folder layout as in the loopback harness:
//! `<run>/nodes/<id>/{data,node.log}`. Dropping the harness kills and reaps
//! every process, then (if it built the network) removes the namespaces,
//! devices, rules and clock files; a shared network is removed by its last
//! owner. [`AnyHarness`] is either harness behind one type.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use faultline_raft::NodeId;

use super::Harness;
use super::disk::DiskFaults;
use super::error::HarnessError;
use super::locate::find_kvnode;
use super::members::{GroupFlags, Launch, Launched, Members, impl_harness_via_members};
use crate::netns::cmd::{ip, tool};
use crate::netns::{NetnsError, Network, NetworkOptions};
use faultline_kvnode::node::NodeStatus;

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
    /// Start nodes under libfaketime (clock faults need it). With
    /// [`NetnsHarness::start_on`] the shared network decides.
    pub faketime: bool,
    /// Let libfaketime fake the monotonic clock too (default off: the wall
    /// clock skews, Raft timers run true).
    pub fake_monotonic: bool,
    /// Run data directories on diskfs mounts (power-loss faults).
    pub disk_faults: Option<DiskFaults>,
    /// Namespaces made at setup beyond the members' ([`NetnsHarness::start`]
    /// only), each the home of one member added later
    /// ([`Harness::start_new_member`]); nothing runs in them until then.
    pub spare_nodes: usize,
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
            disk_faults: None,
            spare_nodes: 0,
        }
    }
}

/// A group of kvnode processes in network namespaces.
pub struct NetnsHarness {
    members: Members,
    launch: NetnsLaunch,
    /// Whether this harness built its network (and so removes it).
    owns_network: bool,
}

/// How a member is started: `ip netns exec <ns> env <vars> kvnode ...`.
struct NetnsLaunch {
    kvnode: PathBuf,
    ip: PathBuf,
    env: PathBuf,
    opts: NetnsOptions,
    network: Arc<Network>,
    /// Member id → its node id in the network.
    slots: BTreeMap<NodeId, NodeId>,
    /// Network nodes made for members added later, not used yet.
    spares: Vec<NodeId>,
    /// How many spares there were at setup.
    spares_made: usize,
}

impl NetnsLaunch {
    fn slot(&self, id: NodeId) -> Result<NodeId, NetnsError> {
        self.slots
            .get(&id)
            .copied()
            .ok_or_else(|| NetnsError::UnknownNode(id.to_string()))
    }

    fn args(&self, members: &Members, id: NodeId) -> Result<Vec<String>, NetnsError> {
        let slot = self.slot(id)?;
        let node = self.network.node(slot)?;
        let mut args = vec![
            "netns".to_string(),
            "exec".into(),
            node.namespace.clone(),
            self.env.display().to_string(),
        ];
        args.extend(self.network.node_env(slot)?);
        args.push(self.kvnode.display().to_string());
        let flags = GroupFlags {
            group: self.opts.group,
            bugs: &self.opts.bugs,
            extra_args: &self.opts.extra_args,
            listen: true,
        };
        args.extend(members.kvnode_args(id, &flags));
        Ok(args)
    }
}

impl Launch for NetnsLaunch {
    fn command(&self, members: &Members, id: NodeId) -> Result<Launched, HarnessError> {
        Ok(Launched {
            program: self.ip.clone(),
            args: self.args(members, id)?,
        })
    }

    fn new_address(&mut self, id: NodeId) -> Result<SocketAddr, HarnessError> {
        if self.spares.is_empty() {
            return Err(HarnessError::NoSpareSlot(self.spares_made));
        }
        let slot = self.spares.remove(0);
        let ip = self.network.node(slot)?.ip;
        self.slots.insert(id, slot);
        Ok(SocketAddr::new(ip.into(), NODE_PORT))
    }

    fn started(&self, id: NodeId, pid: u32) {
        if let Err(e) = self.network.record_pid(pid) {
            tracing::warn!(id, error = %e, "cannot record kvnode pid");
        }
    }
}

impl NetnsHarness {
    /// Build the network and start every member. Environment problems (not
    /// root, tools or libfaketime missing) come back as [`NetnsError`] with
    /// advice; nothing is left behind on failure.
    pub fn start(opts: NetnsOptions) -> Result<NetnsHarness, NetnsError> {
        let ids: Vec<NodeId> = (1..=opts.nodes as NodeId).collect();
        let all: Vec<NodeId> = (1..=(opts.nodes + opts.spare_nodes) as NodeId).collect();
        // Check the kvnode binary and the tools before building anything.
        let (kvnode, ip, env) = tools(&opts)?;
        let network = Network::setup(&NetworkOptions {
            nodes: all,
            faketime: opts.faketime,
            fake_monotonic: opts.fake_monotonic,
        })?;
        let slots = ids.iter().map(|&id| (id, id)).collect();
        NetnsHarness::launch(Arc::new(network), slots, opts, true, (kvnode, ip, env))
    }

    /// Start a group whose member `id` runs in the namespace of node
    /// `slots[id]` of `network`, a network shared with other groups (one
    /// bridge, so every group reaches every other). The members are the
    /// keys of `slots` (`opts.nodes` must be their number); whether they run
    /// under libfaketime is the network's choice. Dropping the harness stops
    /// its processes and leaves the network to its owner.
    pub fn start_on(
        network: Arc<Network>,
        slots: BTreeMap<NodeId, NodeId>,
        opts: NetnsOptions,
    ) -> Result<NetnsHarness, NetnsError> {
        if slots.len() != opts.nodes {
            return Err(NetnsError::BadParameter(format!(
                "{} members but {} network nodes for them",
                opts.nodes,
                slots.len()
            )));
        }
        for &slot in slots.values() {
            network.node(slot)?;
        }
        let tools = tools(&opts)?;
        NetnsHarness::launch(network, slots, opts, false, tools)
    }

    fn launch(
        network: Arc<Network>,
        slots: BTreeMap<NodeId, NodeId>,
        opts: NetnsOptions,
        owns_network: bool,
        (kvnode, ip, env): (PathBuf, PathBuf, PathBuf),
    ) -> Result<NetnsHarness, NetnsError> {
        let mut addrs = BTreeMap::new();
        for (&id, &slot) in &slots {
            addrs.insert(
                id,
                SocketAddr::new(network.node(slot)?.ip.into(), NODE_PORT),
            );
        }
        let spares: Vec<NodeId> = network
            .node_ids()
            .into_iter()
            .filter(|n| owns_network && !slots.values().any(|s| s == n))
            .collect();
        let mut h = NetnsHarness {
            members: Members::new(opts.run_dir.clone(), addrs),
            launch: NetnsLaunch {
                kvnode,
                ip,
                env,
                opts,
                network,
                slots,
                spares_made: spares.len(),
                spares,
            },
            owns_network,
        };
        // On failure, dropping `h` stops what started (and removes its own network).
        if let Some(d) = h.launch.opts.disk_faults.clone() {
            h.members
                .enable_disk_faults(d)
                .map_err(|e| NetnsError::BadParameter(e.to_string()))?;
        }
        h.members.spawn_all(&h.launch).map_err(|e| match e {
            HarnessError::Netns(e) => e,
            e => NetnsError::BadParameter(e.to_string()),
        })?;
        Ok(h)
    }

    /// The run's network: namespaces, rules, clocks (shareable with a `Db`).
    pub fn network(&self) -> Arc<Network> {
        self.launch.network.clone()
    }

    /// Member `id`'s node id in the network (the same id unless the network
    /// is shared, see [`NetnsHarness::start_on`]).
    pub fn slot(&self, id: NodeId) -> Option<NodeId> {
        self.launch.slots.get(&id).copied()
    }

    /// The full command line (after `ip`) member `id` is started with.
    pub fn command_for(&self, id: NodeId) -> Result<Vec<String>, NetnsError> {
        self.launch.args(&self.members, id)
    }

    /// Stop every process and (if this harness built it) remove the network
    /// now (what Drop does). Idempotent.
    pub fn teardown(&mut self) -> Vec<String> {
        self.members.kill_all();
        if self.owns_network {
            self.launch.network.teardown()
        } else {
            Vec::new()
        }
    }
}

/// The kvnode binary, `ip` and `env`, or why they cannot be used.
fn tools(opts: &NetnsOptions) -> Result<(PathBuf, PathBuf, PathBuf), NetnsError> {
    let kvnode = match &opts.kvnode {
        Some(p) => p.clone(),
        None => find_kvnode().map_err(|e| NetnsError::BadParameter(e.to_string()))?,
    };
    Ok((kvnode, ip()?, tool("env", "coreutils")?))
}

impl_harness_via_members!(NetnsHarness);

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
    /// On remote hosts over SSH.
    Ssh(crate::ssh::SshHarness),
}

impl AnyHarness {
    /// `"netns"`, `"loopback"` or `"ssh"` (what test.json records).
    pub fn mode(&self) -> &'static str {
        match self {
            AnyHarness::Loopback(_) => "loopback",
            AnyHarness::Netns(_) => "netns",
            AnyHarness::Ssh(_) => "ssh",
        }
    }

    /// The namespace network (partitions, loss, clocks), when there is one.
    pub fn network(&self) -> Option<Arc<Network>> {
        match self {
            AnyHarness::Loopback(_) | AnyHarness::Ssh(_) => None,
            AnyHarness::Netns(h) => Some(h.network()),
        }
    }

    /// The network and clock control for the nemesis, whatever the mode
    /// (`None` on loopback).
    pub fn net_control(&self) -> Option<Arc<dyn faultline_workloads::NetControl>> {
        match self {
            AnyHarness::Loopback(_) => None,
            AnyHarness::Netns(h) => Some(h.network()),
            AnyHarness::Ssh(h) => Some(h.network()),
        }
    }
}

macro_rules! each {
    ($self:expr, $h:ident => $e:expr) => {
        match $self {
            AnyHarness::Loopback($h) => $e,
            AnyHarness::Netns($h) => $e,
            AnyHarness::Ssh($h) => $e,
        }
    };
}

impl AnyHarness {
    /// The folder of one member (`<run>/nodes/<id>`).
    pub fn node_dir(&self, id: NodeId) -> PathBuf {
        each!(self, h => h.node_dir(id))
    }

    /// The data directory of one member.
    pub fn data_dir(&self, id: NodeId) -> PathBuf {
        each!(self, h => h.data_dir(id))
    }

    /// Extra flags for one member from its next (re)start on.
    pub fn set_node_args(&mut self, id: NodeId, args: Vec<String>) {
        each!(self, h => h.set_node_args(id, args))
    }

    /// Wait up to `timeout` for member `id` to exit on its own.
    pub fn wait_exit(
        &mut self,
        id: NodeId,
        timeout: Duration,
    ) -> Result<Option<std::process::ExitStatus>, HarnessError> {
        each!(self, h => h.wait_exit(id, timeout))
    }

    /// The content of member `id`'s log so far.
    pub fn read_log(&self, id: NodeId) -> String {
        each!(self, h => h.read_log(id))
    }

    /// SIGKILL and reap every member now; in namespaces, also remove the
    /// network if this harness built it (what Drop does). Idempotent.
    pub fn teardown(&mut self) -> Vec<String> {
        match self {
            AnyHarness::Loopback(h) => {
                h.kill_all();
                Vec::new()
            }
            AnyHarness::Netns(h) => h.teardown(),
            AnyHarness::Ssh(h) => h.teardown(),
        }
    }
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
    fn lose_unsynced(&mut self, id: NodeId, tear: bool) -> Result<serde_json::Value, HarnessError> {
        each!(self, h => h.lose_unsynced(id, tear))
    }
    fn start_new_member(&mut self) -> Result<NodeId, HarnessError> {
        each!(self, h => h.start_new_member())
    }
    async fn add_member(
        &self,
        id: NodeId,
        deadline: Duration,
    ) -> Result<faultline_kvnode::client::Committed, HarnessError> {
        each!(self, h => h.add_member(id, deadline).await)
    }
    async fn remove_member(
        &self,
        id: NodeId,
        deadline: Duration,
    ) -> Result<faultline_kvnode::client::Committed, HarnessError> {
        each!(self, h => h.remove_member(id, deadline).await)
    }
}
