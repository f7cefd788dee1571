//! The sharded kvnode stack as a system under test (`--groups N`):
//! [`ShardDb`] is its `Db` over a `ShardedDeployment` (a controller group
//! plus N shard groups) and its `ShardControl` over the controller (for the
//! `shard-move` nemesis); [`ShardClients`] route each key to the group
//! owning its shard through `ShardClient`.
//!
//! Node names, in the history, the report and `nodes/<node>/node.log`:
//! `c<id>` for controller members, `g<gid>n<id>` for member `id` of shard
//! group `gid` (`faultline_harness::deployment::Member`). Each group is a
//! replica group of its own (`Db::groups`), so the nemesis aims "a
//! minority" or "the leader" within one group.
//!
//! In namespaces every member runs on one network shared by all groups, and
//! [`Db::network`] is that network: the partition, packet and clock
//! packages address any member of any group by the names above. With
//! `--hosts FILE` the members run on the remote hosts over SSH
//! (`faultline_harness::ssh`: member slot `k` on host `(k-1) mod H`, port
//! `7400 + k - 1`) and [`Db::network`] is the hosts' rules and clocks.
//!
//! Ready means: a leader, every shard group joined in one configuration,
//! every member at it and every shard served. Recovered (after the final
//! heal) means the same of the latest configuration. The deployment lives in
//! `<run>/cluster/`; teardown stops every process and removes the network,
//! and the `ShardDb`'s drop removes `cluster/` once the runner has
//! collected the logs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use faultline_harness::deployment::{Member, ShardedDeployment, ShardedOptions};
use faultline_harness::ssh::SshCluster;
use faultline_harness::{AnyHarness, Harness, HarnessError};
use faultline_kvnode::client::{ClientOptions, fresh_client_id};
use faultline_kvnode::shard::{Config, CtrlerClient, CtrlerClientError, Gid, ShardClient};
use faultline_raft::NodeId;
use faultline_workloads::{
    Client, ClientFactory, Db, NetControl, NodeProcess, NodeState, Op, Outcome, ShardControl,
    ShardLayout, StopFlag, WorkloadError, wait_for_leader,
};

use super::kv_ops::{kv_op, outcome};
use crate::error::RunnerError;
use crate::system::SystemUnderTest;

/// Status requests wait at most this long (a paused node never answers).
const STATUS_TIMEOUT: Duration = Duration::from_millis(300);
/// How long one wait for a settled configuration runs before the stop
/// flag is looked at again.
const SETTLE_SLICE: Duration = Duration::from_millis(500);
/// How long the deployment may take to elect its first leaders.
const STARTUP_LEADER: Duration = Duration::from_secs(20);
/// How long the shard groups may take to join and serve every shard.
const STARTUP_SHARDS: Duration = Duration::from_secs(60);
/// Members of the controller group.
pub const CTRLER_REPLICAS: usize = 3;

/// How to run the sharded stack.
#[derive(Debug, Clone)]
pub struct ShardOptions {
    pub groups: usize,
    pub replicas: usize,
    pub netns: bool,
    /// Planted bugs passed to every shard group member.
    pub bugs: Vec<String>,
    pub run_dir: PathBuf,
    pub client: ClientOptions,
    pub int_values: bool,
    /// On remote hosts over SSH (`--hosts`): the connected hosts.
    pub ssh: Option<Arc<SshCluster>>,
}

/// The member `name` names (`c<id>` or `g<gid>n<id>`).
fn member(name: &str) -> Result<Member, WorkloadError> {
    name.parse::<Member>()
        .map_err(|_| WorkloadError::Db(format!("no node named {name:?}")))
}

fn no_group(m: Member) -> WorkloadError {
    WorkloadError::Db(format!(
        "no node named {:?}: no such shard group",
        m.to_string()
    ))
}

fn db_err(e: HarnessError) -> WorkloadError {
    WorkloadError::Db(e.to_string())
}

fn ctrler_err(e: CtrlerClientError) -> WorkloadError {
    WorkloadError::Db(format!("shard controller: {e}"))
}

fn not_set_up() -> WorkloadError {
    WorkloadError::Db("the sharded deployment is not running (not set up, or torn down)".into())
}

fn layout(c: Config) -> ShardLayout {
    ShardLayout {
        num: c.num,
        joined: c.groups.keys().copied().collect(),
        owners: c.shards,
    }
}

/// What the deployment looks like once started (fixed for the run).
struct Shape {
    /// The controller client of `ShardControl` (one session, so changes
    /// retried after a lost reply apply once).
    ctrler: Mutex<CtrlerClient>,
    ctrler_addresses: BTreeMap<NodeId, String>,
    /// Each group's server list, as Join wants it.
    servers: BTreeMap<Gid, Vec<String>>,
    /// Node names by replica group: controllers first, then each shard group.
    names: Vec<Vec<String>>,
    /// Each member's log.
    logs: Vec<(String, PathBuf)>,
}

/// A sharded deployment, shared by the nemesis thread and the runner.
pub struct ShardDb {
    opts: ShardOptions,
    runtime: tokio::runtime::Handle,
    deployment: Mutex<Option<ShardedDeployment>>,
    shape: OnceLock<Shape>,
    /// The network control of every member, in namespaces or over SSH;
    /// `None` on loopback.
    net: OnceLock<Arc<dyn NetControl>>,
    /// The member each shard group's leader was last found at.
    leaders: Mutex<BTreeMap<Gid, NodeId>>,
}

impl ShardDb {
    pub fn new(opts: ShardOptions, runtime: tokio::runtime::Handle) -> ShardDb {
        ShardDb {
            opts,
            runtime,
            deployment: Mutex::new(None),
            shape: OnceLock::new(),
            net: OnceLock::new(),
            leaders: Mutex::default(),
        }
    }

    fn cluster_dir(&self) -> PathBuf {
        self.opts.run_dir.join("cluster")
    }

    fn lock(&self) -> MutexGuard<'_, Option<ShardedDeployment>> {
        self.deployment.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn shape(&self) -> Result<&Shape, WorkloadError> {
        self.shape.get().ok_or_else(not_set_up)
    }

    fn ctrler(&self) -> Result<MutexGuard<'_, CtrlerClient>, WorkloadError> {
        Ok(self
            .shape()?
            .ctrler
            .lock()
            .unwrap_or_else(|p| p.into_inner()))
    }

    /// Run `f` on the harness of `m`'s group (address `m` in it by `m.id()`).
    fn with_member<R>(
        &self,
        m: Member,
        f: impl FnOnce(&mut AnyHarness) -> Result<R, WorkloadError>,
    ) -> Result<R, WorkloadError> {
        let mut d = self.lock();
        let d = d.as_mut().ok_or_else(not_set_up)?;
        f(d.harness_of_mut(m).ok_or_else(|| no_group(m))?)
    }

    /// The shard group ids, ascending.
    pub fn gids(&self) -> Vec<Gid> {
        (1..=self.opts.groups as Gid).collect()
    }

    /// Join every shard group (one configuration), then wait until every
    /// member has reached it and every shard is served. The configuration
    /// number, or why not. Returns early once `stop` is set (Ctrl-C).
    fn join_all(&self, timeout: Duration, stop: &StopFlag) -> Result<u64, WorkloadError> {
        let num = ShardControl::join(self, &self.gids())?;
        if self.wait_settled(num, Instant::now() + timeout, stop) {
            Ok(num)
        } else if stop.is_stopped() {
            Err(WorkloadError::Db(
                "interrupted while joining the shard groups".into(),
            ))
        } else {
            Err(WorkloadError::Db(format!(
                "the shard groups did not all reach configuration {num} serving every shard within {timeout:?}"
            )))
        }
    }

    /// Wait until every member of every shard group is at configuration
    /// `num` and the groups' leaders together serve every shard; false
    /// after `deadline` or as soon as `stop` is set (it is looked at every
    /// [`SETTLE_SLICE`]).
    fn wait_settled(&self, num: u64, deadline: Instant, stop: &StopFlag) -> bool {
        let gids = self.gids();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if stop.is_stopped() {
                return false;
            }
            let settled = {
                let d = self.lock();
                let Some(d) = d.as_ref() else {
                    return false;
                };
                self.runtime
                    .block_on(d.wait_config(&gids, num, left.min(SETTLE_SLICE)))
            };
            if settled {
                return true;
            }
            if left <= SETTLE_SLICE {
                return false;
            }
        }
    }
}

impl Drop for ShardDb {
    fn drop(&mut self) {
        let _ = Db::teardown(self);
        let dir = self.cluster_dir();
        if dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the deployment folder");
        }
    }
}

impl Db for ShardDb {
    fn setup(&self) -> Result<(), WorkloadError> {
        let o = &self.opts;
        let mut opts = ShardedOptions::new(o.groups, self.cluster_dir());
        opts.replicas = o.replicas;
        opts.ctrler_replicas = CTRLER_REPLICAS;
        opts.bugs = o.bugs.clone();
        opts.netns = o.netns;
        opts.ssh = o.ssh.clone();
        let d = ShardedDeployment::start(opts).map_err(|e| {
            WorkloadError::Db(format!(
                "starting the shard controller and shard groups{}: {e}",
                if o.ssh.is_some() {
                    " over SSH"
                } else if o.netns {
                    " in network namespaces"
                } else {
                    ""
                }
            ))
        })?;
        let ctrler_addresses = d.ctrler_addresses();
        let servers = d.groups.keys().map(|&gid| (gid, d.servers(gid))).collect();
        let mut names = vec![
            d.ctrlers
                .node_ids()
                .into_iter()
                .map(|id| Member::Ctrler(id).to_string())
                .collect::<Vec<_>>(),
        ];
        let mut logs: Vec<(String, PathBuf)> = d
            .ctrlers
            .log_paths()
            .into_iter()
            .map(|(id, p)| (Member::Ctrler(id).to_string(), p))
            .collect();
        for (&gid, h) in &d.groups {
            names.push(
                h.node_ids()
                    .into_iter()
                    .map(|id| Member::Shard(gid, id).to_string())
                    .collect(),
            );
            logs.extend(
                h.log_paths()
                    .into_iter()
                    .map(|(id, p)| (Member::Shard(gid, id).to_string(), p)),
            );
        }
        if let Some(net) = d.net_control() {
            let _ = self.net.set(net);
        }
        let _ = self.shape.set(Shape {
            ctrler: Mutex::new(CtrlerClient::new(
                &ctrler_addresses,
                ClientOptions::default(),
            )),
            ctrler_addresses,
            servers,
            names,
            logs,
        });
        *self.lock() = Some(d);
        Ok(())
    }

    fn await_ready(&self, stop: &StopFlag) -> Result<(), WorkloadError> {
        if wait_for_leader(self, Instant::now() + STARTUP_LEADER, stop).is_none() {
            return Err(WorkloadError::Db(if stop.is_stopped() {
                "interrupted while waiting for a leader".to_string()
            } else {
                format!("no leader elected within {STARTUP_LEADER:?}")
            }));
        }
        let num = self
            .join_all(STARTUP_SHARDS, stop)
            .map_err(|e| WorkloadError::Db(format!("joining the shard groups: {e}")))?;
        println!(
            "  shard groups {:?} joined: configuration {num}, every shard served",
            self.gids()
        );
        Ok(())
    }

    fn await_recovery(&self, deadline: Instant, stop: &StopFlag) -> bool {
        if wait_for_leader(self, deadline, stop).is_none() {
            return false;
        }
        // Every group at the latest configuration, every shard served.
        match self.query(None) {
            Ok(latest) => self.wait_settled(latest.num, deadline, stop),
            Err(e) => {
                tracing::warn!(error = %e, "querying the shard controller after the heal");
                false
            }
        }
    }

    fn teardown(&self) -> Result<(), WorkloadError> {
        let Some(mut d) = self.lock().take() else {
            return Ok(());
        };
        let r = d.stop_all().map_err(db_err);
        // Dropping the deployment reaps what is left and removes the network.
        drop(d);
        r
    }

    fn log_files(&self) -> Vec<(String, PathBuf)> {
        self.shape.get().map(|s| s.logs.clone()).unwrap_or_default()
    }

    fn processes(&self) -> Vec<NodeProcess> {
        let d = self.lock();
        let Some(d) = d.as_ref() else {
            return Vec::new();
        };
        if self.opts.ssh.is_some() {
            // Remote pids: the run's leftovers record (not the local
            // process list) is how `faultline clean` reaches them.
            return Vec::new();
        }
        let mut out = Vec::new();
        for id in d.ctrlers.node_ids() {
            if let Some(p) = d.ctrlers.pid(id) {
                out.push(NodeProcess::of(Member::Ctrler(id).to_string(), p));
            }
        }
        for (&gid, h) in &d.groups {
            for id in h.node_ids() {
                if let Some(p) = h.pid(id) {
                    out.push(NodeProcess::of(Member::Shard(gid, id).to_string(), p));
                }
            }
        }
        out
    }

    fn describe(&self) -> String {
        let where_ = match self.net.get() {
            Some(net) if self.opts.ssh.is_some() => net.describe(),
            Some(net) => format!("in network namespaces ({})", net.describe()),
            None => "on loopback".to_string(),
        };
        format!(
            "controller group of {CTRLER_REPLICAS} + {} shard groups x {} replicas, {where_}",
            self.opts.groups, self.opts.replicas
        )
    }

    fn nodes(&self) -> Vec<String> {
        Db::groups(self).concat()
    }

    fn groups(&self) -> Vec<Vec<String>> {
        self.shape
            .get()
            .map(|s| s.names.clone())
            .unwrap_or_default()
    }

    fn kill(&self, node: &str) -> Result<(), WorkloadError> {
        let m = member(node)?;
        self.with_member(m, |h| h.kill(m.id()).map_err(db_err))
    }

    fn restart(&self, node: &str) -> Result<(), WorkloadError> {
        let m = member(node)?;
        self.with_member(m, |h| h.restart(m.id()).map_err(db_err))
    }

    fn pause(&self, node: &str) -> Result<(), WorkloadError> {
        let m = member(node)?;
        self.with_member(m, |h| h.pause(m.id()).map_err(db_err))
    }

    fn resume(&self, node: &str) -> Result<(), WorkloadError> {
        let m = member(node)?;
        self.with_member(m, |h| match h.resume(m.id()) {
            // Killed by another fault while paused: nothing is paused any more.
            Err(HarnessError::NotRunning(_)) => Ok(()),
            other => other.map_err(db_err),
        })
    }

    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        let m = member(node)?;
        let s = self.with_member(m, |h| {
            self.runtime
                .block_on(h.status(m.id(), STATUS_TIMEOUT))
                .map_err(db_err)
        })?;
        let leader = s.leader.map(|l| match m {
            Member::Ctrler(_) => Member::Ctrler(l).to_string(),
            Member::Shard(gid, _) => Member::Shard(gid, l).to_string(),
        });
        Ok(NodeState {
            node: node.to_string(),
            role: s.role,
            term: s.term,
            leader,
            applied: s.applied,
        })
    }

    fn network(&self) -> Option<&dyn NetControl> {
        self.net.get().map(|n| &**n as _)
    }

    fn shards(&self) -> Option<&dyn ShardControl> {
        Some(self)
    }
}

impl ShardControl for ShardDb {
    fn groups(&self) -> Vec<u64> {
        self.gids()
    }

    fn join(&self, gids: &[u64]) -> Result<u64, WorkloadError> {
        let shape = self.shape()?;
        let mut groups = BTreeMap::new();
        for gid in gids {
            let servers = shape
                .servers
                .get(gid)
                .ok_or_else(|| WorkloadError::Db(format!("no shard group {gid}")))?;
            groups.insert(*gid, servers.clone());
        }
        let mut c = self.ctrler()?;
        self.runtime.block_on(c.join(groups)).map_err(ctrler_err)
    }

    fn leave(&self, gids: &[u64]) -> Result<u64, WorkloadError> {
        let mut c = self.ctrler()?;
        self.runtime
            .block_on(c.leave(gids.to_vec()))
            .map_err(ctrler_err)
    }

    fn move_shard(&self, shard: usize, gid: u64) -> Result<u64, WorkloadError> {
        let mut c = self.ctrler()?;
        self.runtime
            .block_on(c.move_shard(shard, gid))
            .map_err(ctrler_err)
    }

    fn members(&self, gid: u64) -> Vec<String> {
        let d = self.lock();
        d.as_ref()
            .and_then(|d| d.groups.get(&gid))
            .map_or_else(Vec::new, |h| {
                h.node_ids()
                    .into_iter()
                    .map(|id| Member::Shard(gid, id).to_string())
                    .collect()
            })
    }

    fn group_leader(&self, gid: u64) -> Option<(String, u64)> {
        let d = self.lock();
        let h = d.as_ref()?.groups.get(&gid)?;
        let known = self
            .leaders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&gid)
            .copied();
        let found = self.runtime.block_on(async {
            // The last leader first: one status call while it still leads
            // (the shard-move stall polls this in a tight loop).
            if let Some(id) = known
                && let Ok(s) = h.status(id, STATUS_TIMEOUT).await
                && s.role == "leader"
            {
                return Some((id, s.config_num));
            }
            let mut best: Option<(u64, NodeId, u64)> = None;
            for id in h.node_ids() {
                if let Ok(s) = h.status(id, STATUS_TIMEOUT).await
                    && s.role == "leader"
                    && best.is_none_or(|(term, _, _)| s.term > term)
                {
                    best = Some((s.term, id, s.config_num));
                }
            }
            best.map(|(_, id, num)| (id, num))
        });
        let mut leaders = self.leaders.lock().unwrap_or_else(|p| p.into_inner());
        match found {
            Some((id, num)) => {
                leaders.insert(gid, id);
                Some((Member::Shard(gid, id).to_string(), num))
            }
            None => {
                leaders.remove(&gid);
                None
            }
        }
    }

    fn query(&self, num: Option<u64>) -> Result<ShardLayout, WorkloadError> {
        let num = num.map_or(-1, |n| n as i64);
        let mut c = self.ctrler()?;
        self.runtime
            .block_on(c.query(num))
            .map(layout)
            .map_err(ctrler_err)
    }
}

impl SystemUnderTest for ShardDb {
    fn clients(&self) -> Result<Arc<dyn ClientFactory>, RunnerError> {
        Ok(Arc::new(ShardClients {
            ctrlers: self.shape()?.ctrler_addresses.clone(),
            options: self.opts.client.clone(),
            int_values: self.opts.int_values,
        }))
    }
}

/// Opens a [`ShardClient`] (a fresh client id, so a fresh session) per
/// process.
pub struct ShardClients {
    pub ctrlers: BTreeMap<NodeId, String>,
    pub options: ClientOptions,
    /// Register workload: values are integers in the history.
    pub int_values: bool,
}

/// One process's sharded client.
pub struct ShardProcessClient {
    client: ShardClient,
    int_values: bool,
}

impl ClientFactory for ShardClients {
    fn open(&self, _process: u64) -> Box<dyn Client> {
        Box::new(ShardProcessClient {
            client: ShardClient::new(fresh_client_id(), &self.ctrlers, self.options.clone()),
            int_values: self.int_values,
        })
    }
}

/// `ShardClient` names the member that answered `gid * 100 + position`
/// (1-based in the group's server list, which is in member id order).
fn node_name(node: u64) -> String {
    Member::Shard(node / 100, node % 100).to_string()
}

#[async_trait]
impl Client for ShardProcessClient {
    async fn invoke(&mut self, op: &Op) -> Outcome {
        let answer = self.client.execute(kv_op(op)).await;
        outcome(answer, op, self.int_values, node_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_round_trip() {
        for m in [Member::Ctrler(2), Member::Shard(3, 1), Member::Shard(12, 5)] {
            assert_eq!(member(&m.to_string()).unwrap(), m);
        }
        for bad in ["", "x1", "g1", "g1n", "gxn1", "c", "1"] {
            let e = member(bad).unwrap_err().to_string();
            assert!(e.contains("no node named"), "{bad}: {e}");
        }
        assert_eq!(node_name(203), "g2n3");
    }
}
