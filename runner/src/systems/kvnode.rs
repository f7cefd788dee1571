//! One kvnode Raft group as a system under test: [`KvGroup`] is its `Db`
//! (kvnode processes on loopback, or in network namespaces with the
//! network's `NetControl` for the nemesis) and [`KvClients`] its clients
//! over `KvClient`. Register values (integers in the history) travel as
//! decimal strings.
//!
//! As in Jepsen, each process is bound to one node (process mod nodes): its
//! Gets are tried on that node first, with a short deadline, and only then
//! through the leader-following client. So some reads keep going to a node
//! that believes it leads even after the others have moved on (an isolated
//! old leader), which is where stale reads show.
//!
//! Nodes live in `<run>/nodes/<id>/{data,node.log}`; teardown stops them,
//! removes the network and the data directories and keeps the logs. With
//! `--hosts FILE` the nodes run on remote hosts over SSH instead
//! (`faultline_harness::ssh`), their logs copied back into the same place.
//!
//! Membership ([`MembershipControl`]): a fresh member gets the next id, an
//! empty data directory and (in namespaces) one of the spare namespaces
//! made at setup; it is added through the admin RPC. A removed member's
//! process keeps running until teardown; it no longer counts among
//! [`Db::nodes`]. Clients learn added members' addresses from a shared
//! directory before each operation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use faultline_harness::disk::DiskFaults;
use faultline_harness::ssh::{SshCluster, SshHarness, SshOptions};
use faultline_harness::{
    AnyHarness, Harness, HarnessError, LoopbackHarness, LoopbackOptions, NetnsHarness, NetnsOptions,
};
use faultline_kvnode::client::{
    AdminClient, ClientOptions, KvClient, Outcome as KvOutcome, fresh_client_id,
};
use faultline_kvnode::kv::Op as KvOp;
use faultline_workloads::{
    Client, ClientFactory, Db, MembershipControl, NetControl, NodeProcess, NodeState, Op, Outcome,
    WorkloadError,
};

use super::kv_ops::{kv_op, outcome};
use crate::error::RunnerError;
use crate::system::SystemUnderTest;

/// Status requests wait at most this long (a paused node never answers).
const STATUS_TIMEOUT: Duration = Duration::from_millis(300);
/// A Get on the process's own node gives up after this long (then it goes
/// through the leader); reads take no effect, so giving up is harmless.
const LOCAL_READ_DEADLINE: Duration = Duration::from_millis(10);
/// A membership change must commit within this long.
const CHANGE_DEADLINE: Duration = Duration::from_secs(10);
/// After its own node did not answer a Get, a process reads through the
/// leader for this long before it tries its node again.
const LOCAL_READ_BACKOFF: Duration = Duration::from_millis(100);

/// How to run one kvnode group.
#[derive(Debug, Clone)]
pub struct KvGroupOptions {
    pub replicas: usize,
    /// In network namespaces (else on loopback).
    pub netns: bool,
    /// Planted bugs passed to every kvnode.
    pub bugs: Vec<String>,
    pub run_dir: PathBuf,
    /// The clients' options (attempt timeout, the planted client bug).
    pub client: ClientOptions,
    /// Register workload: values are integers in the history.
    pub int_values: bool,
    /// Data directories on diskfs mounts (the `power` nemesis needs it).
    pub disk_faults: Option<DiskFaults>,
    /// More kvnode flags for every member (e.g. `--read-mode lease`).
    pub extra_args: Vec<String>,
    /// In namespaces: let libfaketime fake the monotonic clock too, so clock
    /// faults reach timers, ticks and leases (lease mode).
    pub fake_monotonic: bool,
    /// Lease runs: the clock drift bound the nodes' leases allow for.
    pub clock_drift_pct: Option<u32>,
    /// In namespaces: spare namespaces for members added later (the
    /// membership nemesis); each added member uses one.
    pub spare_nodes: usize,
    /// On remote hosts over SSH (`--hosts`): the connected hosts.
    pub ssh: Option<Arc<SshCluster>>,
}

/// Every member's client address, added members included; clients read
/// it before each operation.
pub type Directory = Arc<Mutex<BTreeMap<u64, String>>>;

/// One kvnode group, shared by the nemesis thread and the runner.
pub struct KvGroup {
    opts: KvGroupOptions,
    runtime: tokio::runtime::Handle,
    harness: Mutex<Option<AnyHarness>>,
    /// The network control (partitions, loss, clocks), in namespaces or
    /// over SSH.
    net: OnceLock<Arc<dyn NetControl>>,
    /// Each node's log, known from setup on (added members' too).
    logs: Mutex<Vec<(String, PathBuf)>>,
    /// Members removed from the group's configuration.
    removed: Mutex<BTreeSet<u64>>,
    /// Where every member serves clients (shared with the clients).
    directory: Directory,
}

fn db_err(e: HarnessError) -> WorkloadError {
    WorkloadError::Db(e.to_string())
}

fn node_id(node: &str) -> Result<u64, WorkloadError> {
    node.parse()
        .map_err(|_| WorkloadError::Db(format!("no node named {node:?}")))
}

fn not_set_up() -> WorkloadError {
    WorkloadError::Db("the kvnode group is not running (not set up, or torn down)".into())
}

impl KvGroup {
    pub fn new(opts: KvGroupOptions, runtime: tokio::runtime::Handle) -> KvGroup {
        KvGroup {
            opts,
            runtime,
            harness: Mutex::new(None),
            net: OnceLock::new(),
            logs: Mutex::new(Vec::new()),
            removed: Mutex::new(BTreeSet::new()),
            directory: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    fn removed(&self) -> MutexGuard<'_, BTreeSet<u64>> {
        self.removed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An admin client over every member's address.
    fn admin(&self) -> Result<AdminClient, WorkloadError> {
        let addresses = self.with(|h| Ok(h.addresses()))?;
        Ok(AdminClient::new(&addresses, Duration::from_millis(500)))
    }

    fn lock(&self) -> MutexGuard<'_, Option<AnyHarness>> {
        self.harness.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` on the running harness.
    fn with<R>(
        &self,
        f: impl FnOnce(&mut AnyHarness) -> Result<R, WorkloadError>,
    ) -> Result<R, WorkloadError> {
        f(self.lock().as_mut().ok_or_else(not_set_up)?)
    }

    fn start(&self) -> Result<AnyHarness, WorkloadError> {
        let o = &self.opts;
        if let Some(cluster) = &o.ssh {
            let h = SshHarness::start(
                cluster.clone(),
                SshOptions {
                    bugs: o.bugs.clone(),
                    extra_args: o.extra_args.clone(),
                    fake_monotonic: o.fake_monotonic,
                    ..SshOptions::group(o.replicas, &o.run_dir)
                },
            )
            .map_err(|e| WorkloadError::Db(format!("starting the kvnode group over SSH: {e}")))?;
            return Ok(AnyHarness::Ssh(h));
        }
        if o.netns {
            let h = NetnsHarness::start(NetnsOptions {
                bugs: o.bugs.clone(),
                disk_faults: o.disk_faults.clone(),
                extra_args: o.extra_args.clone(),
                fake_monotonic: o.fake_monotonic,
                spare_nodes: o.spare_nodes,
                ..NetnsOptions::new(o.replicas, &o.run_dir)
            })
            .map_err(|e| {
                WorkloadError::Db(format!(
                    "starting the kvnode group in network namespaces: {e}"
                ))
            })?;
            return Ok(AnyHarness::Netns(h));
        }
        let mut lo = LoopbackOptions::new(o.replicas, &o.run_dir);
        lo.bugs = o.bugs.clone();
        lo.disk_faults = o.disk_faults.clone();
        lo.extra_args = o.extra_args.clone();
        let h = LoopbackHarness::start(lo)
            .map_err(|e| WorkloadError::Db(format!("starting the kvnode group: {e}")))?;
        Ok(AnyHarness::Loopback(h))
    }
}

impl Db for KvGroup {
    fn setup(&self) -> Result<(), WorkloadError> {
        let h = self.start()?;
        if let Some(net) = h.net_control() {
            let _ = self.net.set(net);
        }
        *self.logs.lock().unwrap_or_else(|p| p.into_inner()) = h
            .log_paths()
            .into_iter()
            .map(|(id, p)| (id.to_string(), p))
            .collect();
        *self.directory.lock().unwrap_or_else(|p| p.into_inner()) = h.addresses();
        self.removed().clear();
        *self.lock() = Some(h);
        Ok(())
    }

    fn teardown(&self) -> Result<(), WorkloadError> {
        let Some(mut h) = self.lock().take() else {
            return Ok(());
        };
        let stopped = h.stop_all().map_err(db_err);
        // The data directories, and with disk faults their backing folders
        // (`<node>/disk`, unmounted by stop_all).
        let data: Vec<PathBuf> = h
            .node_ids()
            .into_iter()
            .flat_map(|id| [h.data_dir(id), h.node_dir(id).join("disk")])
            .collect();
        // Dropping the harness reaps what is left and removes the network.
        drop(h);
        for dir in data.into_iter().filter(|d| d.is_dir()) {
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot remove a data directory");
            }
        }
        stopped
    }

    fn log_files(&self) -> Vec<(String, PathBuf)> {
        self.logs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn processes(&self) -> Vec<NodeProcess> {
        let guard = self.lock();
        let Some(h) = guard.as_ref() else {
            return Vec::new();
        };
        if matches!(h, AnyHarness::Ssh(_)) {
            // Remote pids: the run's leftovers record (not the local
            // process list) is how `faultline clean` reaches them.
            return Vec::new();
        }
        h.node_ids()
            .into_iter()
            .filter_map(|id| h.pid(id).map(|p| NodeProcess::of(id.to_string(), p)))
            .collect()
    }

    fn describe(&self) -> String {
        let where_ = match self.net.get() {
            Some(net) if self.opts.ssh.is_some() => net.describe(),
            Some(net) => format!("in network namespaces ({})", net.describe()),
            None => "on loopback".to_string(),
        };
        format!("{} kvnodes {where_}", self.opts.replicas)
    }

    fn nodes(&self) -> Vec<String> {
        let removed = self.removed().clone();
        self.lock().as_ref().map_or_else(
            || (1..=self.opts.replicas).map(|i| i.to_string()).collect(),
            |h| {
                h.node_ids()
                    .into_iter()
                    .filter(|id| !removed.contains(id))
                    .map(|id| id.to_string())
                    .collect()
            },
        )
    }

    fn membership(&self) -> Option<&dyn MembershipControl> {
        Some(self)
    }

    fn kill(&self, node: &str) -> Result<(), WorkloadError> {
        let id = node_id(node)?;
        self.with(|h| h.kill(id).map_err(db_err))
    }

    fn restart(&self, node: &str) -> Result<(), WorkloadError> {
        let id = node_id(node)?;
        self.with(|h| h.restart(id).map_err(db_err))
    }

    fn lose_unsynced(&self, node: &str, tear: bool) -> Result<serde_json::Value, WorkloadError> {
        let id = node_id(node)?;
        self.with(|h| h.lose_unsynced(id, tear).map_err(db_err))
    }

    fn pause(&self, node: &str) -> Result<(), WorkloadError> {
        let id = node_id(node)?;
        self.with(|h| h.pause(id).map_err(db_err))
    }

    fn resume(&self, node: &str) -> Result<(), WorkloadError> {
        let id = node_id(node)?;
        self.with(|h| match h.resume(id) {
            // Killed by another fault while paused: SIGKILL ended the stopped
            // process, so nothing is paused any more and the pause is healed.
            Err(HarnessError::NotRunning(_)) => Ok(()),
            other => other.map_err(db_err),
        })
    }

    fn network(&self) -> Option<&dyn NetControl> {
        self.net.get().map(|n| &**n)
    }

    fn clock_drift_pct(&self) -> Option<u32> {
        self.opts.clock_drift_pct
    }

    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        let id = node_id(node)?;
        let s = self.with(|h| {
            self.runtime
                .block_on(h.status(id, STATUS_TIMEOUT))
                .map_err(db_err)
        })?;
        Ok(NodeState {
            node: node.to_string(),
            role: s.role,
            term: s.term,
            leader: s.leader.map(|l| l.to_string()),
            applied: s.applied,
        })
    }
}

impl MembershipControl for KvGroup {
    fn members(&self) -> Vec<String> {
        self.nodes()
    }

    fn add_fresh(&self) -> Result<String, WorkloadError> {
        let (id, addr, log) = self.with(|h| {
            let id = h.start_new_member().map_err(db_err)?;
            let addr = h.addresses().get(&id).cloned().unwrap_or_default();
            Ok((id, addr, h.log_paths().get(&id).cloned()))
        })?;
        if let Some(log) = log {
            self.logs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((id.to_string(), log));
        }
        let mut admin = self.admin()?;
        self.runtime
            .block_on(admin.add_member(id, &addr, CHANGE_DEADLINE))
            .map_err(|e| WorkloadError::Db(format!("adding node {id}: {e}")))?;
        self.directory
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, addr);
        Ok(id.to_string())
    }

    fn remove(&self, node: &str) -> Result<(), WorkloadError> {
        let id = node_id(node)?;
        let mut admin = self.admin()?;
        let result = self
            .runtime
            .block_on(admin.remove_member(id, CHANGE_DEADLINE))
            .map_err(|e| WorkloadError::Db(format!("removing node {id}: {e}")));
        if result.is_ok() {
            self.removed().insert(id);
        }
        result.map(|_| ())
    }
}

impl SystemUnderTest for KvGroup {
    fn clients(&self) -> Result<Arc<dyn ClientFactory>, RunnerError> {
        let addresses = self.with(|h| Ok(h.addresses()))?;
        Ok(Arc::new(KvClients {
            addresses,
            directory: Some(self.directory.clone()),
            options: self.opts.client.clone(),
            int_values: self.opts.int_values,
        }))
    }
}

/// Opens a [`KvClient`] (a fresh client id, so a fresh session) per process.
pub struct KvClients {
    pub addresses: BTreeMap<u64, String>,
    /// Members added later, learned before each operation.
    pub directory: Option<Directory>,
    pub options: ClientOptions,
    /// Register workload: values are integers in the history.
    pub int_values: bool,
}

/// One process's client: the leader-following client and its own node's.
pub struct KvProcessClient {
    client: KvClient,
    /// A client of this process's own node only (Gets are tried there first).
    local: Option<KvClient>,
    /// Gets skip the own node until then.
    local_after: Instant,
    int_values: bool,
    directory: Option<Directory>,
    /// How many members the client knows.
    known: usize,
}

impl ClientFactory for KvClients {
    fn open(&self, process: u64) -> Box<dyn Client> {
        let id = fresh_client_id();
        let local = self
            .addresses
            .iter()
            .nth((process % self.addresses.len().max(1) as u64) as usize)
            .map(|(&node, addr)| {
                let options = ClientOptions {
                    op_deadline: LOCAL_READ_DEADLINE,
                    ..self.options.clone()
                };
                KvClient::new(id, &BTreeMap::from([(node, addr.clone())]), options)
            });
        Box::new(KvProcessClient {
            client: KvClient::new(id, &self.addresses, self.options.clone()),
            local,
            local_after: Instant::now(),
            int_values: self.int_values,
            directory: self.directory.clone(),
            known: self.addresses.len(),
        })
    }
}

impl KvProcessClient {
    /// Send to members added since the last operation too.
    fn learn_members(&mut self) {
        let Some(dir) = &self.directory else {
            return;
        };
        let dir = dir.lock().unwrap_or_else(|p| p.into_inner());
        if dir.len() == self.known {
            return;
        }
        for (&id, addr) in dir.iter() {
            self.client.add_node(id, addr);
        }
        self.known = dir.len();
    }

    /// A Get on the process's own node, if it is due and the node answers.
    async fn local_get(&mut self, op: &KvOp) -> Option<KvOutcome> {
        let local = self.local.as_mut()?;
        if !matches!(op, KvOp::Get { .. }) || Instant::now() < self.local_after {
            return None;
        }
        match local.execute(op.clone()).await {
            ok @ KvOutcome::Ok { .. } => Some(ok),
            _ => {
                self.local_after = Instant::now() + LOCAL_READ_BACKOFF;
                None
            }
        }
    }
}

#[async_trait]
impl Client for KvProcessClient {
    async fn invoke(&mut self, op: &Op) -> Outcome {
        self.learn_members();
        let kv_op = kv_op(op);
        let answer = match self.local_get(&kv_op).await {
            Some(answer) => answer,
            None => self.client.execute(kv_op).await,
        };
        outcome(answer, op, self.int_values, |node| node.to_string())
    }
}
