//! etcd as a system under test: [`EtcdDb`] implements the workloads' `Db`
//! protocol over the cluster's `EtcdCluster` (members on loopback, or in
//! network namespaces with `NetControl` for the nemesis), and
//! [`EtcdClients`] the `Client` protocol over its JSON-gateway client. Each
//! process talks to one member (process number modulo the members, as
//! Jepsen's clients do), so a partitioned minority member is really asked.
//! Gets are linearizable unless `serializable`; a get that errs is `fail`
//! (a read changes nothing), a write that could not connect is `fail`, any
//! other write error or timeout is `info`. Register values (integers in
//! the history) travel as decimal strings.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use faultline_harness::etcd::{CallError, EtcdClient, EtcdCluster, EtcdError};
use faultline_harness::netns::Network;
use faultline_workloads::{
    Client, ClientFactory, Db, F, NetControl, NodeState, Op, Outcome, WorkloadError,
};
use serde_json::Value;

use super::kv_ops::{text, value};
use super::markers::Marker;

/// A client call ends within this; then a write is `info`.
const OP_TIMEOUT: Duration = Duration::from_secs(2);

/// A running etcd cluster, shared by the nemesis thread and the runner.
/// Dropping it kills every member (and removes the network), then removes
/// the run's marker (field order).
pub struct EtcdDb {
    cluster: Mutex<EtcdCluster>,
    net: Option<Arc<Network>>,
    names: Vec<String>,
    marker: Marker,
}

fn db_err(e: EtcdError) -> WorkloadError {
    WorkloadError::Db(e.to_string())
}

impl EtcdDb {
    pub fn new(cluster: EtcdCluster, marker: Marker) -> EtcdDb {
        let db = EtcdDb {
            net: cluster.network(),
            names: cluster.names(),
            cluster: Mutex::new(cluster),
            marker,
        };
        db.update_marker();
        db
    }

    fn lock(&self) -> MutexGuard<'_, EtcdCluster> {
        self.cluster.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update_marker(&self) {
        let pids = self.lock().pids();
        self.marker.write_pids(&pids);
    }

    /// Client URLs of the members, in member order.
    pub fn client_urls(&self) -> Vec<String> {
        self.lock().client_urls().into_values().collect()
    }

    /// Stop every member (SIGTERM, then SIGKILL) and forget the marker pids.
    pub fn stop_all(&self) {
        self.lock().stop_all();
        self.marker.write_pids(&[]);
    }
}

impl Db for EtcdDb {
    fn nodes(&self) -> Vec<String> {
        self.names.clone()
    }

    fn kill(&self, node: &str) -> Result<(), WorkloadError> {
        let r = self.lock().kill(node).map_err(db_err);
        self.update_marker();
        r
    }

    fn restart(&self, node: &str) -> Result<(), WorkloadError> {
        let r = self.lock().restart(node).map_err(db_err);
        self.update_marker();
        r
    }

    fn pause(&self, node: &str) -> Result<(), WorkloadError> {
        self.lock().pause(node).map_err(db_err)
    }

    fn resume(&self, node: &str) -> Result<(), WorkloadError> {
        match self.lock().resume(node) {
            // Killed by another fault while paused: SIGKILL ended the stopped
            // process, so nothing is paused any more and the pause is healed.
            Err(EtcdError::NotRunning(_)) => Ok(()),
            other => other.map_err(db_err),
        }
    }

    fn network(&self) -> Option<&dyn NetControl> {
        self.net.as_deref().map(|n| n as _)
    }

    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        // Bounded (a paused member never answers): the lock is held at most
        // the status timeout.
        let (s, leader) = self.lock().status(node).map_err(db_err)?;
        let is_leader = s.leader != 0 && s.leader == s.member_id;
        Ok(NodeState {
            node: node.to_string(),
            role: if is_leader { "leader" } else { "follower" }.to_string(),
            term: s.raft_term,
            leader,
            applied: s.raft_applied,
        })
    }
}

/// Opens an [`EtcdClient`] per process, on member `process % members`.
pub struct EtcdClients {
    pub urls: Vec<String>,
    pub serializable: bool,
    /// Register workload: values are integers in the history.
    pub int_values: bool,
}

pub struct EtcdProcessClient {
    client: EtcdClient,
    node: String,
    serializable: bool,
    int_values: bool,
}

impl ClientFactory for EtcdClients {
    type Client = EtcdProcessClient;
    fn open(&self, process: u64) -> EtcdProcessClient {
        let i = (process % self.urls.len().max(1) as u64) as usize;
        EtcdProcessClient {
            client: EtcdClient::new(&self.urls[i], OP_TIMEOUT),
            node: (i + 1).to_string(),
            serializable: self.serializable,
            int_values: self.int_values,
        }
    }
}

/// What one call returned, before it becomes an outcome.
enum Reply {
    Read(Option<String>),
    Written,
    Cas(bool),
}

impl Client for EtcdProcessClient {
    async fn invoke(&mut self, op: &Op) -> Outcome {
        let node = Some(self.node.clone());
        let (client, serializable, op2) = (self.client.clone(), self.serializable, op.clone());
        let call = tokio::task::spawn_blocking(move || -> Result<Reply, CallError> {
            let key = op2.key.as_str();
            match op2.f {
                F::Get => client.get(key, serializable).map(Reply::Read),
                F::Put => client.put(key, &text(&op2.value)).map(|_| Reply::Written),
                F::Cas => {
                    let (expected, new) = op2.cas_pair().unwrap_or((&Value::Null, &Value::Null));
                    let expected = (!expected.is_null()).then(|| text(expected));
                    client
                        .cas(key, expected.as_deref(), &text(new))
                        .map(Reply::Cas)
                }
                F::Append => Err(CallError::NotSent(
                    "append is not supported on etcd".to_string(),
                )),
            }
        })
        .await;
        match call {
            Ok(Ok(Reply::Read(v))) => Outcome::Ok {
                value: value(v, self.int_values),
                node,
            },
            Ok(Ok(Reply::Written | Reply::Cas(true))) => Outcome::Ok {
                value: op.value.clone(),
                node,
            },
            Ok(Ok(Reply::Cas(false))) => Outcome::Fail {
                error: "cas: the value differed".to_string(),
                node,
            },
            Ok(Err(e)) if op.f == F::Get || matches!(e, CallError::NotSent(_)) => Outcome::Fail {
                error: e.to_string(),
                node,
            },
            Ok(Err(e)) => Outcome::Info {
                error: e.to_string(),
                node,
            },
            Err(e) => Outcome::Info {
                error: format!("client task: {e}"),
                node,
            },
        }
    }
}

/// The system under test the runner drives: the kvnode cluster (one group,
/// or sharded with `--groups`) or etcd (`--db`), behind the `Db` protocol.
pub enum SutDb {
    Kv(super::kvdb::KvDb),
    Shard(super::sharddb::ShardDb),
    Etcd(EtcdDb),
}

macro_rules! each_db {
    ($self:expr, $d:ident => $e:expr) => {
        match $self {
            SutDb::Kv($d) => $e,
            SutDb::Shard($d) => $e,
            SutDb::Etcd($d) => $e,
        }
    };
}

impl SutDb {
    /// Stop every node (SIGTERM, then SIGKILL).
    pub fn stop_all(&self) -> Result<(), String> {
        match self {
            SutDb::Kv(d) => d.stop_all().map_err(|e| e.to_string()),
            SutDb::Shard(d) => d.stop_all().map_err(|e| e.to_string()),
            SutDb::Etcd(d) => {
                d.stop_all();
                Ok(())
            }
        }
    }
}

impl Db for SutDb {
    fn nodes(&self) -> Vec<String> {
        each_db!(self, d => d.nodes())
    }
    fn kill(&self, node: &str) -> Result<(), WorkloadError> {
        each_db!(self, d => d.kill(node))
    }
    fn restart(&self, node: &str) -> Result<(), WorkloadError> {
        each_db!(self, d => d.restart(node))
    }
    fn pause(&self, node: &str) -> Result<(), WorkloadError> {
        each_db!(self, d => d.pause(node))
    }
    fn resume(&self, node: &str) -> Result<(), WorkloadError> {
        each_db!(self, d => d.resume(node))
    }
    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        each_db!(self, d => d.status(node))
    }
    fn network(&self) -> Option<&dyn NetControl> {
        each_db!(self, d => d.network())
    }
    fn shards(&self) -> Option<&dyn faultline_workloads::ShardControl> {
        each_db!(self, d => d.shards())
    }
    fn groups(&self) -> Vec<Vec<String>> {
        each_db!(self, d => d.groups())
    }
}

/// Clients of either system (`--db`).
pub enum SutClients {
    Kv(super::kvdb::KvClients),
    Shard(super::sharddb::ShardClients),
    Etcd(EtcdClients),
}

pub enum SutClient {
    Kv(<super::kvdb::KvClients as ClientFactory>::Client),
    Shard(super::sharddb::ShardProcessClient),
    Etcd(EtcdProcessClient),
}

impl ClientFactory for SutClients {
    type Client = SutClient;
    fn open(&self, process: u64) -> SutClient {
        match self {
            SutClients::Kv(f) => SutClient::Kv(f.open(process)),
            SutClients::Shard(f) => SutClient::Shard(f.open(process)),
            SutClients::Etcd(f) => SutClient::Etcd(f.open(process)),
        }
    }
}

impl Client for SutClient {
    async fn invoke(&mut self, op: &Op) -> Outcome {
        match self {
            SutClient::Kv(c) => c.invoke(op).await,
            SutClient::Shard(c) => c.invoke(op).await,
            SutClient::Etcd(c) => c.invoke(op).await,
        }
    }
}

impl EtcdDb {
    /// Clients for the workers, spread over the members.
    pub fn clients(&self, serializable: bool, int_values: bool) -> EtcdClients {
        EtcdClients {
            urls: self.client_urls(),
            serializable,
            int_values,
        }
    }
}

/// Start the system `plan.db` names: etcd members here (in namespaces when
/// `plan.netns`), the sharded deployment (`--groups`, not joined yet; in
/// namespaces on one shared network when `plan.netns`), or
/// the kvnode harness `start_kv` starts. Also the namespace network, when
/// there is one.
pub fn start_db(
    plan: &super::plan::Plan,
    run_dir: &std::path::Path,
    marker: Marker,
    start_kv: impl FnOnce() -> anyhow::Result<faultline_harness::AnyHarness>,
    runtime: tokio::runtime::Handle,
) -> anyhow::Result<(SutDb, Option<Arc<Network>>)> {
    use anyhow::Context;
    if plan.db == "etcd" {
        let cluster = EtcdCluster::start(faultline_harness::etcd::EtcdOptions {
            netns: plan.netns,
            ..faultline_harness::etcd::EtcdOptions::new(plan.replicas, run_dir)
        })
        .context("starting the etcd members")?;
        let net = cluster.network();
        return Ok((SutDb::Etcd(EtcdDb::new(cluster, marker)), net));
    }
    if plan.sharded() {
        let db = super::sharddb::ShardDb::start(
            plan.groups,
            plan.replicas,
            plan.netns,
            plan.node_bugs.clone(),
            run_dir,
            runtime,
            marker,
        )
        .context(if plan.netns {
            "starting the shard controller and shard groups in network namespaces"
        } else {
            "starting the shard controller and shard groups"
        })?;
        let net = db.net();
        return Ok((SutDb::Shard(db), net));
    }
    let harness = start_kv()?;
    let net = harness.network();
    Ok((
        SutDb::Kv(super::kvdb::KvDb::new(harness, runtime, marker)),
        net,
    ))
}
