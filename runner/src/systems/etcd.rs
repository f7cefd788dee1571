//! etcd as a system under test, whole in this module: [`Etcd`] is its
//! registry entry (`--db etcd`: the register and append workloads, no shards, one
//! "bug": `--bug unsafe-no-fsync`, etcd's own flag, on an etcd that has it;
//! with `--nemesis power` the members' data directories are diskfs mounts), [`EtcdDb`] its `Db` over the harness's `EtcdCluster` (members on
//! loopback, or in network namespaces with `NetControl` for the nemesis)
//! and [`EtcdClients`] its clients over the JSON-gateway client. This is
//! the shape any new system takes: a kind, a Db, a client, one module.
//!
//! Each process talks to one member (process number modulo the members, as
//! Jepsen's clients do), so a partitioned minority member is really asked.
//! Gets are linearizable unless `--etcd-serializable-reads`; a get that errs
//! is `fail` (a read changes nothing), a write that could not connect is
//! `fail`, any other write error or timeout is `info`. Register values
//! (integers in the history) travel as decimal strings. An append (Lab 4
//! style: the key's string grows by the op's value) is a linearizable read
//! and a transaction that writes the longer string only if the key's mod
//! revision is still the one read; a lost race writes nothing and is tried
//! again, so an append applies at most once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use faultline_harness::etcd::{CallError, EtcdClient, EtcdCluster, EtcdError, EtcdOptions};
use faultline_harness::netns::Network;
use faultline_workloads::{
    Client, ClientFactory, Db, F, NetControl, NodeProcess, NodeState, Op, Outcome, StopFlag,
    WorkloadError,
};
use serde_json::Value;

use super::kv_ops::{text, value};
use crate::error::{RunnerError, bad_option};
use crate::plan::Plan;
use crate::system::{SystemContext, SystemKind, SystemUnderTest};

/// A client call ends within this; then a write is `info`.
const OP_TIMEOUT: Duration = Duration::from_secs(2);

/// The one `--bug` etcd takes: its own `--unsafe-no-fsync` flag.
const UNSAFE_NO_FSYNC: &str = "unsafe-no-fsync";

/// Whether the etcd that would run knows `--unsafe-no-fsync`.
fn etcd_has_unsafe_no_fsync() -> bool {
    faultline_harness::etcd::find_etcd()
        .ok()
        .and_then(|p| std::process::Command::new(p).arg("--help").output().ok())
        .is_some_and(|o| {
            String::from_utf8_lossy(&o.stdout).contains("unsafe-no-fsync")
                || String::from_utf8_lossy(&o.stderr).contains("unsafe-no-fsync")
        })
}

/// The registry entry of etcd.
#[derive(Debug)]
pub struct Etcd;

impl SystemKind for Etcd {
    fn name(&self) -> &'static str {
        "etcd"
    }

    fn about(&self) -> &'static str {
        "etcd members (Debian's etcd-server), register and append workloads through the JSON gateway"
    }

    fn validate(&self, plan: &Plan) -> Result<(), RunnerError> {
        if plan.bug.as_deref().is_some_and(|b| b != UNSAFE_NO_FSYNC) {
            return Err(bad_option(
                "--db etcd takes no planted bugs of faultline's own (only --bug unsafe-no-fsync, etcd's own flag)",
            ));
        }
        if plan.bug.is_some() && !etcd_has_unsafe_no_fsync() {
            return Err(bad_option(
                "this etcd has no --unsafe-no-fsync flag (it came in etcd 3.5; Debian's etcd-server is 3.4); drop --bug or select an etcd 3.5+ with FAULTLINE_ETCD=/opt/faultline/etcd-3.5.1/etcd (scripts/setup.sh installs it)",
            ));
        }
        if plan.sharded() {
            return Err(bad_option(
                "--groups runs the sharded kvnode stack; it does not go with --db etcd",
            ));
        }
        if plan.read_mode() != faultline_raft::ReadMode::ReadIndex {
            return Err(bad_option(
                "--read-mode is kvnode's; etcd serves reads its own way (see --etcd-serializable-reads)",
            ));
        }
        Ok(())
    }

    fn test_name_prefix(&self, _plan: &Plan) -> String {
        "etcd-".to_string()
    }

    fn replay_flags(&self, plan: &Plan) -> String {
        let mut flags = " --db etcd".to_string();
        if plan.etcd_serializable_reads {
            flags += " --etcd-serializable-reads";
        }
        flags
    }

    fn build(&self, ctx: &SystemContext) -> Result<Box<dyn SystemUnderTest>, RunnerError> {
        Ok(Box::new(EtcdDb {
            opts: EtcdOptions {
                netns: ctx.plan.netns,
                disk_faults: ctx.plan.has_package("power").then_some(
                    faultline_harness::disk::DiskFaults {
                        seed: ctx.plan.seed,
                        binary: None,
                    },
                ),
                extra_args: ctx
                    .plan
                    .bug
                    .iter()
                    .filter(|b| *b == UNSAFE_NO_FSYNC)
                    .map(|_| "--unsafe-no-fsync".to_string())
                    .collect(),
                ..EtcdOptions::new(ctx.plan.replicas, &ctx.run_dir)
            },
            serializable: ctx.plan.etcd_serializable_reads,
            int_values: ctx.plan.int_values(),
            cluster: Mutex::new(None),
            net: OnceLock::new(),
            names: OnceLock::new(),
        }))
    }
}

/// A running etcd cluster, shared by the nemesis thread and the runner.
pub struct EtcdDb {
    opts: EtcdOptions,
    serializable: bool,
    int_values: bool,
    cluster: Mutex<Option<EtcdCluster>>,
    net: OnceLock<Arc<Network>>,
    names: OnceLock<Vec<String>>,
}

fn db_err(e: EtcdError) -> WorkloadError {
    WorkloadError::Db(e.to_string())
}

impl EtcdDb {
    fn lock(&self) -> MutexGuard<'_, Option<EtcdCluster>> {
        self.cluster.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut EtcdCluster) -> Result<R, EtcdError>,
    ) -> Result<R, WorkloadError> {
        let mut c = self.lock();
        let c = c.as_mut().ok_or_else(|| {
            WorkloadError::Db("etcd is not running (not set up, or torn down)".into())
        })?;
        f(c).map_err(db_err)
    }

    fn member_dir(&self, name: &str) -> PathBuf {
        self.opts.run_dir.join("nodes").join(name)
    }
}

impl Db for EtcdDb {
    fn setup(&self) -> Result<(), WorkloadError> {
        let cluster = EtcdCluster::start(self.opts.clone())
            .map_err(|e| WorkloadError::Db(format!("starting the etcd members: {e}")))?;
        if let Some(net) = cluster.network() {
            let _ = self.net.set(net);
        }
        let _ = self.names.set(cluster.names());
        *self.lock() = Some(cluster);
        Ok(())
    }

    /// A leader, then (with disk faults) every member's disk synced once,
    /// as on a machine that has run a while: power losses test the running
    /// cluster, not its first seconds. (etcd does not fsync the data
    /// directory after creating `member/`, so a power loss within the file
    /// system's commit window of the first start can undo a member's
    /// bootstrap; `FAULTLINE_POWER_BOOTSTRAP=1` keeps that window open.)
    fn await_ready(&self, stop: &StopFlag) -> Result<(), WorkloadError> {
        faultline_workloads::await_startup_leader(self, stop)?;
        if std::env::var_os("FAULTLINE_POWER_BOOTSTRAP").is_some_and(|v| v == "1") {
            return Ok(());
        }
        self.with(|c| c.sync_disks())
    }

    fn teardown(&self) -> Result<(), WorkloadError> {
        let Some(mut c) = self.lock().take() else {
            return Ok(());
        };
        c.stop_all();
        let problems = c.teardown();
        drop(c);
        for name in self.nodes() {
            // The data directory, and with disk faults its backing folder.
            for data in [
                self.member_dir(&name).join("data"),
                self.member_dir(&name).join("disk"),
            ] {
                if data.is_dir()
                    && let Err(e) = std::fs::remove_dir_all(&data)
                {
                    tracing::warn!(dir = %data.display(), error = %e, "cannot remove a data directory");
                }
            }
        }
        super::network_teardown_result(problems)
    }

    fn log_files(&self) -> Vec<(String, PathBuf)> {
        self.nodes()
            .into_iter()
            .map(|n| {
                let log = self.member_dir(&n).join("node.log");
                (n, log)
            })
            .collect()
    }

    fn processes(&self) -> Vec<NodeProcess> {
        self.lock().as_ref().map_or_else(Vec::new, |c| {
            c.pids()
                .into_iter()
                .map(|(n, p)| NodeProcess::of(n, p))
                .collect()
        })
    }

    fn describe(&self) -> String {
        let where_ = match self.net.get() {
            Some(net) => format!("in network namespaces ({})", net.describe()),
            None => "on loopback".to_string(),
        };
        format!("{} etcd members {where_}", self.opts.members)
    }

    fn nodes(&self) -> Vec<String> {
        self.names
            .get()
            .cloned()
            .unwrap_or_else(|| (1..=self.opts.members).map(|i| i.to_string()).collect())
    }

    fn kill(&self, node: &str) -> Result<(), WorkloadError> {
        self.with(|c| c.kill(node))
    }

    fn restart(&self, node: &str) -> Result<(), WorkloadError> {
        self.with(|c| c.restart(node))
    }

    fn lose_unsynced(&self, node: &str, tear: bool) -> Result<Value, WorkloadError> {
        self.with(|c| c.lose_unsynced(node, tear))
    }

    fn pause(&self, node: &str) -> Result<(), WorkloadError> {
        self.with(|c| c.pause(node))
    }

    fn resume(&self, node: &str) -> Result<(), WorkloadError> {
        self.with(|c| match c.resume(node) {
            // Killed by another fault while paused: SIGKILL ended the stopped
            // process, so nothing is paused any more and the pause is healed.
            Err(EtcdError::NotRunning(_)) => Ok(()),
            other => other,
        })
    }

    fn network(&self) -> Option<&dyn NetControl> {
        self.net.get().map(|n| &**n as _)
    }

    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        // Bounded (a paused member never answers): the lock is held at most
        // the status timeout.
        let (s, leader) = self.with(|c| c.status(node))?;
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

impl SystemUnderTest for EtcdDb {
    fn clients(&self) -> Result<Arc<dyn ClientFactory>, RunnerError> {
        let urls = self.with(|c| Ok(c.client_urls().into_values().collect()))?;
        Ok(Arc::new(EtcdClients {
            urls,
            serializable: self.serializable,
            int_values: self.int_values,
        }))
    }
}

/// How many read-then-transaction rounds an append tries before it gives up
/// (each lost round wrote nothing).
const APPEND_ATTEMPTS: u32 = 8;

/// Opens an [`EtcdClient`] per process, on member `process % members`.
pub struct EtcdClients {
    pub urls: Vec<String>,
    pub serializable: bool,
    /// Register workload: values are integers in the history.
    pub int_values: bool,
}

/// One process's client of one member.
pub struct EtcdProcessClient {
    client: EtcdClient,
    node: String,
    serializable: bool,
    int_values: bool,
}

impl ClientFactory for EtcdClients {
    fn open(&self, process: u64) -> Box<dyn Client> {
        let i = (process % self.urls.len().max(1) as u64) as usize;
        Box::new(EtcdProcessClient {
            client: EtcdClient::new(&self.urls[i], OP_TIMEOUT),
            node: (i + 1).to_string(),
            serializable: self.serializable,
            int_values: self.int_values,
        })
    }
}

/// What one call returned, before it becomes an outcome.
enum Reply {
    Read(Option<String>),
    Written,
    Cas(bool),
}

#[async_trait]
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
                F::Append => client
                    .append(key, &text(&op2.value), APPEND_ATTEMPTS)
                    .map(Reply::Cas),
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
            Ok(Ok(Reply::Cas(false))) if op.f == F::Append => Outcome::Fail {
                error: format!("append: the key changed under each of {APPEND_ATTEMPTS} attempts"),
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
