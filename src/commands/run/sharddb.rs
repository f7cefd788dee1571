//! The sharded kvnode stack as a system under test (`faultline run
//! --groups N`): [`ShardDb`] implements the workloads' `Db` protocol over a
//! `ShardedDeployment` (a controller group plus N shard groups) and the
//! `ShardControl` protocol over its controller (for the `shard-move`
//! nemesis); [`ShardClients`] implements the `Client` protocol over
//! `ShardClient`, which routes each key to the group owning its shard.
//!
//! Node names, in the history, the report and `nodes/<node>/node.log`:
//! `c<id>` for controller members, `g<gid>n<id>` for member `id` of shard
//! group `gid` (`faultline_harness::deployment::Member`). Each group is a replica
//! group of its own (`Db::groups`), so the nemesis aims "a minority" or "the
//! leader" within one group.
//!
//! With `netns` (root, tools present, no `--no-netns`: the same rule as a
//! single group) every member runs in its own network namespace on one
//! network shared by all groups, and [`Db::network`] is that network: the
//! partition, packet and clock packages address any member of any group by
//! the names above. On loopback there is no network control (plan.rs refuses
//! those packages before anything starts).
//!
//! The deployment lives in `<run>/cluster/` while the run goes; when the
//! `ShardDb` is dropped every process is stopped, each member's log is
//! copied to `<run>/nodes/<name>/node.log` and `cluster/` (data
//! directories) is removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use faultline_harness::deployment::{Member, ShardedDeployment, ShardedOptions};
use faultline_harness::netns::Network;
use faultline_harness::{AnyHarness, Harness, HarnessError};
use faultline_kvnode::client::{ClientOptions, fresh_client_id};
use faultline_kvnode::shard::{Config, CtrlerClient, CtrlerClientError, Gid, ShardClient};
use faultline_nemesis::StopFlag;
use faultline_raft::NodeId;
use faultline_workloads::{
    Client, ClientFactory, Db, NetControl, NodeState, Op, Outcome, ShardControl, ShardLayout,
    WorkloadError,
};

use super::kv_ops::{kv_op, outcome};
use super::markers::Marker;

/// Status requests wait at most this long (a paused node never answers).
const STATUS_TIMEOUT: Duration = Duration::from_millis(300);
/// How long one wait for a settled configuration runs before the stop
/// flag is looked at again.
const SETTLE_SLICE: Duration = Duration::from_millis(500);
/// Members of the controller group.
pub const CTRLER_REPLICAS: usize = 3;

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

/// The harness of `m`'s group (address `m` in it by `m.id()`).
fn harness_of(d: &mut ShardedDeployment, m: Member) -> Result<&mut AnyHarness, WorkloadError> {
    d.harness_of_mut(m).ok_or_else(|| no_group(m))
}

fn db_err(e: HarnessError) -> WorkloadError {
    WorkloadError::Db(e.to_string())
}

fn ctrler_err(e: CtrlerClientError) -> WorkloadError {
    WorkloadError::Db(format!("shard controller: {e}"))
}

fn layout(c: Config) -> ShardLayout {
    ShardLayout {
        num: c.num,
        joined: c.groups.keys().copied().collect(),
        owners: c.shards,
    }
}

/// A running sharded deployment, shared by the nemesis thread and the
/// runner. Dropping it stops every process, collects the node logs and
/// removes the run's marker.
pub struct ShardDb {
    deployment: Mutex<ShardedDeployment>,
    /// The network every member is on, in namespaces (partitions, loss,
    /// clocks); `None` on loopback. The deployment tears it down.
    net: Option<Arc<Network>>,
    /// The controller client of `ShardControl` (one session, so changes
    /// retried after a lost reply apply once).
    ctrler: Mutex<CtrlerClient>,
    ctrler_addresses: BTreeMap<NodeId, String>,
    /// Each group's server list, as Join wants it.
    servers: BTreeMap<Gid, Vec<String>>,
    /// Node names by replica group: controllers first, then each shard group.
    names: Vec<Vec<String>>,
    /// The member each shard group's leader was last found at.
    leaders: Mutex<BTreeMap<Gid, NodeId>>,
    runtime: tokio::runtime::Handle,
    run_dir: PathBuf,
    cluster_dir: PathBuf,
    marker: Marker,
}

impl ShardDb {
    /// Start a controller group of [`CTRLER_REPLICAS`] and `groups` shard
    /// groups of `replicas` (not joined yet; see [`ShardDb::join_all`]), in
    /// network namespaces on one shared network when `netns`, else on
    /// loopback. `bugs` go to every shard group member.
    pub fn start(
        groups: usize,
        replicas: usize,
        netns: bool,
        bugs: Vec<String>,
        run_dir: &Path,
        runtime: tokio::runtime::Handle,
        marker: Marker,
    ) -> Result<ShardDb, HarnessError> {
        let cluster_dir = run_dir.join("cluster");
        let mut opts = ShardedOptions::new(groups, &cluster_dir);
        opts.replicas = replicas;
        opts.ctrler_replicas = CTRLER_REPLICAS;
        opts.bugs = bugs;
        opts.netns = netns;
        let d = ShardedDeployment::start(opts)?;
        let ctrler_addresses = d.ctrlers.addresses();
        let servers = d.groups.keys().map(|&gid| (gid, d.servers(gid))).collect();
        let mut names = vec![
            d.ctrlers
                .node_ids()
                .into_iter()
                .map(|id| Member::Ctrler(id).to_string())
                .collect::<Vec<_>>(),
        ];
        for (&gid, h) in &d.groups {
            names.push(
                h.node_ids()
                    .into_iter()
                    .map(|id| Member::Shard(gid, id).to_string())
                    .collect(),
            );
        }
        let db = ShardDb {
            ctrler: Mutex::new(CtrlerClient::new(
                &ctrler_addresses,
                ClientOptions::default(),
            )),
            ctrler_addresses,
            servers,
            names,
            leaders: Mutex::default(),
            net: d.network(),
            deployment: Mutex::new(d),
            runtime,
            run_dir: run_dir.to_path_buf(),
            cluster_dir,
            marker,
        };
        db.update_marker();
        Ok(db)
    }

    fn lock(&self) -> MutexGuard<'_, ShardedDeployment> {
        self.deployment.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn ctrler(&self) -> MutexGuard<'_, CtrlerClient> {
        self.ctrler.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update_marker(&self) {
        let d = self.lock();
        let mut pids = Vec::new();
        for id in d.ctrlers.node_ids() {
            if let Some(p) = d.ctrlers.pid(id) {
                pids.push((Member::Ctrler(id).to_string(), p));
            }
        }
        for (&gid, h) in &d.groups {
            for id in h.node_ids() {
                if let Some(p) = h.pid(id) {
                    pids.push((Member::Shard(gid, id).to_string(), p));
                }
            }
        }
        self.marker.write_pids(&pids);
    }

    /// The network shared by every member (namespaces), `None` on loopback.
    pub fn net(&self) -> Option<Arc<Network>> {
        self.net.clone()
    }

    /// The shard group ids, ascending.
    pub fn gids(&self) -> Vec<Gid> {
        self.servers.keys().copied().collect()
    }

    /// Clients for the workers.
    pub fn clients(&self, options: ClientOptions, int_values: bool) -> ShardClients {
        ShardClients {
            ctrlers: self.ctrler_addresses.clone(),
            options,
            int_values,
        }
    }

    /// Join every shard group (one configuration), then wait until every
    /// member has reached it and every shard is served. The configuration
    /// number, or why not.
    /// Returns early (with an error) once `stop` is set (Ctrl-C).
    pub fn join_all(&self, timeout: Duration, stop: &StopFlag) -> Result<u64, String> {
        let num = ShardControl::join(self, &self.gids()).map_err(|e| e.to_string())?;
        if self.wait_settled(num, timeout, stop) {
            Ok(num)
        } else if stop.is_stopped() {
            Err("interrupted".to_string())
        } else {
            Err(format!(
                "the shard groups did not all reach configuration {num} serving every shard within {timeout:?}"
            ))
        }
    }

    /// Wait until every member of every shard group is at configuration
    /// `num` and the groups' leaders together serve every shard; false
    /// after `timeout` or as soon as `stop` is set (it is looked at every
    /// [`SETTLE_SLICE`]).
    pub fn wait_settled(&self, num: u64, timeout: Duration, stop: &StopFlag) -> bool {
        let gids = self.gids();
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if stop.is_stopped() {
                return false;
            }
            let settled = {
                let d = self.lock();
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

    /// The latest configuration number.
    pub fn latest_config(&self) -> Result<u64, WorkloadError> {
        self.query(None).map(|l| l.num)
    }

    /// Stop every process (SIGTERM, then SIGKILL) and forget the marker pids.
    pub fn stop_all(&self) -> Result<(), HarnessError> {
        let r = self.lock().stop_all();
        self.marker.write_pids(&[]);
        r
    }

    /// Copy each member's log to `<run>/nodes/<name>/node.log`.
    fn collect_logs(&self) {
        let d = self.lock();
        let mut logs: Vec<(String, PathBuf)> = d
            .ctrlers
            .log_paths()
            .into_iter()
            .map(|(id, p)| (Member::Ctrler(id).to_string(), p))
            .collect();
        for (&gid, h) in &d.groups {
            logs.extend(
                h.log_paths()
                    .into_iter()
                    .map(|(id, p)| (Member::Shard(gid, id).to_string(), p)),
            );
        }
        for (name, src) in logs {
            let dir = self.run_dir.join("nodes").join(&name);
            let copied = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::copy(&src, dir.join("node.log")).map(|_| ()));
            if let Err(e) = copied {
                tracing::warn!(node = %name, log = %src.display(), error = %e, "cannot copy a node log");
            }
        }
    }
}

impl Drop for ShardDb {
    fn drop(&mut self) {
        if let Err(e) = self.lock().stop_all() {
            tracing::warn!(error = %e, "stopping the sharded deployment");
        }
        self.marker.write_pids(&[]);
        self.collect_logs();
        if let Err(e) = std::fs::remove_dir_all(&self.cluster_dir) {
            tracing::warn!(dir = %self.cluster_dir.display(), error = %e, "cannot remove the deployment folder");
        }
    }
}

impl Db for ShardDb {
    fn nodes(&self) -> Vec<String> {
        self.names.concat()
    }

    fn groups(&self) -> Vec<Vec<String>> {
        self.names.clone()
    }

    fn kill(&self, node: &str) -> Result<(), WorkloadError> {
        let m = member(node)?;
        let r = {
            let mut d = self.lock();
            harness_of(&mut d, m)?.kill(m.id()).map_err(db_err)
        };
        self.update_marker();
        r
    }

    fn restart(&self, node: &str) -> Result<(), WorkloadError> {
        let m = member(node)?;
        let r = {
            let mut d = self.lock();
            harness_of(&mut d, m)?.restart(m.id()).map_err(db_err)
        };
        self.update_marker();
        r
    }

    fn pause(&self, node: &str) -> Result<(), WorkloadError> {
        let m = member(node)?;
        let mut d = self.lock();
        harness_of(&mut d, m)?.pause(m.id()).map_err(db_err)
    }

    fn resume(&self, node: &str) -> Result<(), WorkloadError> {
        let m = member(node)?;
        let mut d = self.lock();
        match harness_of(&mut d, m)?.resume(m.id()) {
            // Killed by another fault while paused: nothing is paused any more.
            Err(HarnessError::NotRunning(_)) => Ok(()),
            other => other.map_err(db_err),
        }
    }

    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        let m = member(node)?;
        let d = self.lock();
        let h = d.harness_of(m).ok_or_else(|| no_group(m))?;
        let s = self
            .runtime
            .block_on(h.status(m.id(), STATUS_TIMEOUT))
            .map_err(db_err)?;
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
        self.net.as_deref().map(|n| n as _)
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
        let mut groups = BTreeMap::new();
        for gid in gids {
            let servers = self
                .servers
                .get(gid)
                .ok_or_else(|| WorkloadError::Db(format!("no shard group {gid}")))?;
            groups.insert(*gid, servers.clone());
        }
        let mut c = self.ctrler();
        self.runtime.block_on(c.join(groups)).map_err(ctrler_err)
    }

    fn leave(&self, gids: &[u64]) -> Result<u64, WorkloadError> {
        let mut c = self.ctrler();
        self.runtime
            .block_on(c.leave(gids.to_vec()))
            .map_err(ctrler_err)
    }

    fn move_shard(&self, shard: usize, gid: u64) -> Result<u64, WorkloadError> {
        let mut c = self.ctrler();
        self.runtime
            .block_on(c.move_shard(shard, gid))
            .map_err(ctrler_err)
    }

    fn members(&self, gid: u64) -> Vec<String> {
        let d = self.lock();
        d.groups.get(&gid).map_or_else(Vec::new, |h| {
            h.node_ids()
                .into_iter()
                .map(|id| Member::Shard(gid, id).to_string())
                .collect()
        })
    }

    fn group_leader(&self, gid: u64) -> Option<(String, u64)> {
        let d = self.lock();
        let h = d.groups.get(&gid)?;
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
        let mut c = self.ctrler();
        self.runtime
            .block_on(c.query(num))
            .map(layout)
            .map_err(ctrler_err)
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

pub struct ShardProcessClient {
    client: ShardClient,
    int_values: bool,
}

impl ClientFactory for ShardClients {
    type Client = ShardProcessClient;
    fn open(&self, _process: u64) -> ShardProcessClient {
        ShardProcessClient {
            client: ShardClient::new(fresh_client_id(), &self.ctrlers, self.options.clone()),
            int_values: self.int_values,
        }
    }
}

/// `ShardClient` names the member that answered `gid * 100 + position`
/// (1-based in the group's server list, which is in member id order).
fn node_name(node: u64) -> String {
    Member::Shard(node / 100, node % 100).to_string()
}

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
