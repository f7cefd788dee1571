//! The kvnode cluster as a system under test: [`KvDb`] implements the
//! workloads' `Db` protocol over the cluster's `AnyHarness` (kvnodes on
//! loopback, or in network namespaces with `NetControl` for the nemesis), and
//! [`KvClients`] the `Client` protocol over its `KvClient`. Register values
//! (integers in the history) travel as decimal strings.
//!
//! As in Jepsen, each process is bound to one node (process mod nodes): its
//! Gets are tried on that node first, with a short deadline, and only then
//! through the leader-following client. So some reads keep going to a node
//! that believes it leads even after the others have moved on (an isolated
//! old leader), which is where stale reads show.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use faultline_harness::netns::Network;
use faultline_harness::{AnyHarness, Harness, HarnessError};
use faultline_kvnode::client::{ClientOptions, KvClient, Outcome as KvOutcome, fresh_client_id};
use faultline_kvnode::kv::Op as KvOp;
use faultline_workloads::{
    Client, ClientFactory, Db, NetControl, NodeState, Op, Outcome, WorkloadError,
};

use super::kv_ops::{kv_op, outcome};
use super::markers::Marker;

/// Status requests wait at most this long (a paused node never answers).
const STATUS_TIMEOUT: Duration = Duration::from_millis(300);
/// A Get on the process's own node gives up after this long (then it goes
/// through the leader); reads take no effect, so giving up is harmless.
const LOCAL_READ_DEADLINE: Duration = Duration::from_millis(10);
/// After its own node did not answer a Get, a process reads through the
/// leader for this long before it tries its node again.
const LOCAL_READ_BACKOFF: Duration = Duration::from_millis(100);

/// A running kvnode group, shared by the nemesis thread and the runner.
/// Dropping it kills every node (the harness's drop), then removes the
/// run's marker (field order).
pub struct KvDb {
    harness: Mutex<AnyHarness>,
    /// The namespace network (partitions, loss, clocks), when in namespaces.
    net: Option<Arc<Network>>,
    runtime: tokio::runtime::Handle,
    marker: Marker,
}

fn db_err(e: HarnessError) -> WorkloadError {
    WorkloadError::Db(e.to_string())
}

fn node_id(node: &str) -> Result<u64, WorkloadError> {
    node.parse()
        .map_err(|_| WorkloadError::Db(format!("no node named {node:?}")))
}

impl KvDb {
    pub fn new(harness: AnyHarness, runtime: tokio::runtime::Handle, marker: Marker) -> KvDb {
        let db = KvDb {
            net: harness.network(),
            harness: Mutex::new(harness),
            runtime,
            marker,
        };
        db.update_marker();
        db
    }

    fn lock(&self) -> MutexGuard<'_, AnyHarness> {
        self.harness.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update_marker(&self) {
        let h = self.lock();
        let pids: Vec<(String, u32)> = h
            .node_ids()
            .into_iter()
            .filter_map(|id| h.pid(id).map(|p| (id.to_string(), p)))
            .collect();
        self.marker.write_pids(&pids);
    }

    /// Client addresses of the members.
    pub fn addresses(&self) -> BTreeMap<u64, String> {
        self.lock().addresses()
    }

    /// Stop every member (SIGTERM, then SIGKILL) and forget the marker pids.
    pub fn stop_all(&self) -> Result<(), HarnessError> {
        let r = self.lock().stop_all();
        self.marker.write_pids(&[]);
        r
    }
}

impl Db for KvDb {
    fn nodes(&self) -> Vec<String> {
        self.lock()
            .node_ids()
            .into_iter()
            .map(|id| id.to_string())
            .collect()
    }

    fn kill(&self, node: &str) -> Result<(), WorkloadError> {
        let r = self.lock().kill(node_id(node)?).map_err(db_err);
        self.update_marker();
        r
    }

    fn restart(&self, node: &str) -> Result<(), WorkloadError> {
        let r = self.lock().restart(node_id(node)?).map_err(db_err);
        self.update_marker();
        r
    }

    fn pause(&self, node: &str) -> Result<(), WorkloadError> {
        self.lock().pause(node_id(node)?).map_err(db_err)
    }

    fn resume(&self, node: &str) -> Result<(), WorkloadError> {
        match self.lock().resume(node_id(node)?) {
            // Killed by another fault while paused: SIGKILL ended the stopped
            // process, so nothing is paused any more and the pause is healed.
            Err(HarnessError::NotRunning(_)) => Ok(()),
            other => other.map_err(db_err),
        }
    }

    fn network(&self) -> Option<&dyn NetControl> {
        self.net.as_deref().map(|n| n as _)
    }

    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        let id = node_id(node)?;
        let h = self.lock();
        let s = self
            .runtime
            .block_on(h.status(id, STATUS_TIMEOUT))
            .map_err(db_err)?;
        Ok(NodeState {
            node: node.to_string(),
            role: s.role,
            term: s.term,
            leader: s.leader.map(|l| l.to_string()),
            applied: s.applied,
        })
    }
}

/// Opens a [`KvClient`] (a fresh client id, so a fresh session) per process.
pub struct KvClients {
    pub addresses: BTreeMap<u64, String>,
    pub options: ClientOptions,
    /// Register workload: values are integers in the history.
    pub int_values: bool,
}

pub struct KvProcessClient {
    client: KvClient,
    /// A client of this process's own node only (Gets are tried there first).
    local: Option<KvClient>,
    /// Gets skip the own node until then.
    local_after: Instant,
    int_values: bool,
}

impl ClientFactory for KvClients {
    type Client = KvProcessClient;
    fn open(&self, process: u64) -> KvProcessClient {
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
        KvProcessClient {
            client: KvClient::new(id, &self.addresses, self.options.clone()),
            local,
            local_after: Instant::now(),
            int_values: self.int_values,
        }
    }
}

impl KvProcessClient {
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

impl Client for KvProcessClient {
    async fn invoke(&mut self, op: &Op) -> Outcome {
        let kv_op = kv_op(op);
        let answer = match self.local_get(&kv_op).await {
            Some(answer) => answer,
            None => self.client.execute(kv_op).await,
        };
        outcome(answer, op, self.int_values, |node| node.to_string())
    }
}
