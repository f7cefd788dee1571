//! [`FileDb`]: the nodes a system file describes, as a [`ProcessGroup`] of
//! the harness (on loopback, or one network namespace per node so
//! partitions, packet loss and clock faults apply as for kvnode). Node `n`
//! keeps `nodes/<n>/data` (its `{data_dir}`, removed at teardown unless
//! its own log lives there) and `nodes/<n>/node.log` (its stdout and
//! stderr, or, with `node.log`, a copy of the log it writes itself, its
//! output then in `nodes/<n>/stdout.log`). Ready means every node passes
//! the file's probe; status is the probe too (a file names no leader).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use faultline_harness::netns::Network;
use faultline_harness::procs::{Endpoint, GroupOptions, Launch, ProcessError, ProcessGroup};
use faultline_raft::NodeId;
use faultline_workloads::{
    ClientFactory, Db, NetControl, NodeProcess, NodeState, StopFlag, WorkloadError,
};

use super::clients::AdapterClients;
use super::ready::Probe;
use super::spec::SystemSpec;
use super::template::{Vars, render};
use crate::error::RunnerError;
use crate::system::SystemUnderTest;

/// The nodes of a system file.
pub struct FileDb {
    pub(super) spec: SystemSpec,
    /// The system file's folder (absolute): the processes' working folder.
    pub(super) system_dir: PathBuf,
    pub(super) run_dir: PathBuf,
    pub(super) members: usize,
    pub(super) netns: bool,
    pub(super) int_values: bool,
    pub(super) group: Mutex<Option<ProcessGroup>>,
    pub(super) net: OnceLock<Arc<Network>>,
    pub(super) endpoints: OnceLock<BTreeMap<NodeId, Endpoint>>,
}

fn proc_err(e: ProcessError) -> WorkloadError {
    match e {
        // Killed by another fault while paused: nothing is paused any more.
        ProcessError::NotRunning(n) => WorkloadError::Db(format!("node {n} is not running")),
        other => WorkloadError::Db(other.to_string()),
    }
}

fn node_id(name: &str) -> Result<NodeId, WorkloadError> {
    name.parse()
        .map_err(|_| WorkloadError::Db(format!("no node {name}")))
}

impl FileDb {
    fn lock(&self) -> MutexGuard<'_, Option<ProcessGroup>> {
        self.group.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut ProcessGroup) -> Result<R, ProcessError>,
    ) -> Result<R, WorkloadError> {
        let mut g = self.lock();
        let g = g.as_mut().ok_or_else(|| {
            WorkloadError::Db("the nodes are not running (not set up, or torn down)".into())
        })?;
        f(g).map_err(proc_err)
    }

    fn node_dir(&self, name: &str) -> PathBuf {
        self.run_dir.join("nodes").join(name)
    }

    fn endpoints(&self) -> Result<&BTreeMap<NodeId, Endpoint>, WorkloadError> {
        self.endpoints
            .get()
            .ok_or_else(|| WorkloadError::Db("the nodes are not placed yet".into()))
    }

    /// The placeholder values of node `id`.
    fn vars(&self, id: NodeId) -> Result<Vars, WorkloadError> {
        let eps = self.endpoints()?;
        let e = eps
            .get(&id)
            .ok_or_else(|| WorkloadError::Db(format!("no node {id}")))?;
        let peers: Vec<String> = eps
            .iter()
            .map(|(id, e)| {
                let ports: Vec<String> = e.ports.iter().map(|p| p.to_string()).collect();
                format!("{id}={}:{}", e.ip, ports.join(":"))
            })
            .collect();
        let name = id.to_string();
        let mut vars: Vars = [
            ("id", name.clone()),
            ("name", name.clone()),
            ("host", e.ip.to_string()),
            ("port", e.ports[0].to_string()),
            ("addr", e.addr()),
            ("peers", peers.join(",")),
            (
                "data_dir",
                self.node_dir(&name).join("data").display().to_string(),
            ),
            ("run_dir", self.run_dir.display().to_string()),
            ("system_dir", self.system_dir.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (i, p) in e.ports.iter().enumerate() {
            vars.insert(format!("port{i}"), p.to_string());
        }
        Ok(vars)
    }

    fn render_all(
        &self,
        field: &str,
        items: &[String],
        vars: &Vars,
    ) -> Result<Vec<String>, WorkloadError> {
        items
            .iter()
            .enumerate()
            .map(|(i, a)| {
                render(a, vars).map_err(|e| WorkloadError::Db(format!("{field}[{i}]: {e}")))
            })
            .collect()
    }

    /// The node's own log file (`node.log` of the file), if any.
    fn own_log(&self, name: &str) -> Option<PathBuf> {
        let template = self.spec.node.log.as_ref()?;
        let vars = self.vars(node_id(name).ok()?).ok()?;
        let p = PathBuf::from(render(template, &vars).ok()?);
        Some(if p.is_absolute() {
            p
        } else {
            self.node_dir(name).join(p)
        })
    }

    fn launch(&self, id: NodeId) -> Result<Launch, WorkloadError> {
        let vars = self.vars(id)?;
        let name = id.to_string();
        let dir = self.node_dir(&name);
        std::fs::create_dir_all(dir.join("data"))
            .map_err(|e| WorkloadError::Db(format!("creating {}: {e}", dir.display())))?;
        let mut argv = self.render_all("node.command", &self.spec.node.command, &vars)?;
        let program = PathBuf::from(argv.remove(0));
        let env = self
            .spec
            .node
            .env
            .iter()
            .map(|(k, v)| {
                render(v, &vars)
                    .map(|v| (k.clone(), v))
                    .map_err(|e| WorkloadError::Db(format!("node.env.{k}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let log = if self.spec.node.log.is_some() {
            dir.join("stdout.log")
        } else {
            dir.join("node.log")
        };
        Ok(Launch {
            program,
            args: argv,
            env,
            cwd: Some(self.system_dir.clone()),
            log,
        })
    }

    fn spawn(&self, g: &mut ProcessGroup, id: NodeId) -> Result<(), WorkloadError> {
        let launch = self.launch(id)?;
        g.spawn(id, &launch).map_err(|e| {
            WorkloadError::Db(format!(
                "starting node {id} ({}): {e}; check node.command in the system file",
                launch.program.display()
            ))
        })?;
        Ok(())
    }

    fn probe(&self, name: &str) -> Result<Probe, WorkloadError> {
        let id = node_id(name)?;
        Ok(match &self.spec.ready.command {
            Some(c) => Probe::Command(self.render_all("ready.command", c, &self.vars(id)?)?),
            None => Probe::Tcp(
                self.endpoints()?
                    .get(&id)
                    .ok_or_else(|| WorkloadError::Db(format!("no node {name}")))?
                    .addr(),
            ),
        })
    }

    /// Whether node `name` passes the probe; why not.
    fn ready(&self, name: &str) -> Result<(), String> {
        self.probe(name)
            .map_err(|e| e.to_string())?
            .check(&self.system_dir)
    }

    /// Wait until every node is ready; the ones that are not at `deadline`.
    fn wait_all(&self, deadline: Instant, stop: &StopFlag) -> Result<(), Vec<(String, String)>> {
        let mut waiting: BTreeMap<String, String> = self
            .nodes()
            .into_iter()
            .map(|n| (n, "not probed".into()))
            .collect();
        loop {
            let names: Vec<String> = waiting.keys().cloned().collect();
            for n in names {
                match self.ready(&n) {
                    Ok(()) => {
                        waiting.remove(&n);
                    }
                    Err(e) => {
                        waiting.insert(n, e);
                    }
                }
            }
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline || stop.is_stopped() {
                return Err(waiting.into_iter().collect());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Db for FileDb {
    fn setup(&self) -> Result<(), WorkloadError> {
        let mut group = ProcessGroup::new(&GroupOptions {
            members: self.members,
            ports: self.spec.node.ports,
            netns: self.netns,
            base_port: self.spec.node.port,
            faketime: self.spec.node.faketime,
        })
        .map_err(|e| WorkloadError::Db(format!("placing the nodes: {e}")))?;
        let _ = self.endpoints.set(group.endpoints().clone());
        if let Some(net) = group.network() {
            let _ = self.net.set(net);
        }
        let ids: Vec<NodeId> = group.endpoints().keys().copied().collect();
        let mut started = Ok(());
        for id in ids {
            started = self.spawn(&mut group, id);
            if started.is_err() {
                break;
            }
        }
        // Kept even on a failure part-way: teardown stops what started.
        *self.lock() = Some(group);
        started
    }

    fn await_ready(&self, stop: &StopFlag) -> Result<(), WorkloadError> {
        let budget = Duration::from_secs(self.spec.ready.timeout_s);
        self.wait_all(Instant::now() + budget, stop)
            .map_err(|waiting| {
                let exited: Vec<String> = waiting
                    .iter()
                    .filter(|(n, _)| !self.lock().as_mut().is_some_and(|g| g.is_running(n)))
                    .map(|(n, _)| n.clone())
                    .collect();
                let why: Vec<String> = waiting
                    .iter()
                    .map(|(n, e)| format!("node {n}: {e}"))
                    .collect();
                let mut msg = if stop.is_stopped() {
                    "interrupted while waiting for the nodes".to_string()
                } else {
                    format!("nodes not ready within {budget:?} (ready.timeout_s)")
                };
                msg += &format!(": {}", why.join("; "));
                if !exited.is_empty() {
                    msg += &format!(
                        "; node(s) {} exited: see {}",
                        exited.join(", "),
                        self.run_dir.join("nodes/<n>/").display()
                    );
                }
                WorkloadError::Db(msg)
            })
    }

    fn await_recovery(&self, deadline: Instant, stop: &StopFlag) -> bool {
        self.wait_all(deadline, stop).is_ok()
    }

    fn teardown(&self) -> Result<(), WorkloadError> {
        let Some(mut g) = self.lock().take() else {
            return Ok(());
        };
        g.stop_all(Duration::from_millis(self.spec.node.stop_grace_ms));
        let problems = g.teardown();
        drop(g);
        for name in self.nodes() {
            let data = self.node_dir(&name).join("data");
            let keeps_log = self.own_log(&name).is_some_and(|l| l.starts_with(&data));
            if data.is_dir()
                && !keeps_log
                && let Err(e) = std::fs::remove_dir_all(&data)
            {
                tracing::warn!(dir = %data.display(), error = %e, "cannot remove a data directory");
            }
        }
        crate::systems::network_teardown_result(problems)
    }

    fn log_files(&self) -> Vec<(String, PathBuf)> {
        self.nodes()
            .into_iter()
            .map(|n| {
                let log = self
                    .own_log(&n)
                    .unwrap_or_else(|| self.node_dir(&n).join("node.log"));
                (n, log)
            })
            .collect()
    }

    fn processes(&self) -> Vec<NodeProcess> {
        self.lock().as_ref().map_or_else(Vec::new, |g| {
            g.pids()
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
        format!(
            "{} nodes of {} {where_}",
            self.members,
            self.spec.name.as_deref().unwrap_or("the system file")
        )
    }

    fn nodes(&self) -> Vec<String> {
        (1..=self.members).map(|i| i.to_string()).collect()
    }

    fn kill(&self, node: &str) -> Result<(), WorkloadError> {
        self.with(|g| g.kill(node))
    }

    fn restart(&self, node: &str) -> Result<(), WorkloadError> {
        let mut g = self.lock();
        let g = g
            .as_mut()
            .ok_or_else(|| WorkloadError::Db("the nodes are not running".into()))?;
        let id = g.forget_exited(node).map_err(proc_err)?;
        self.spawn(g, id)
    }

    fn pause(&self, node: &str) -> Result<(), WorkloadError> {
        self.with(|g| g.pause(node))
    }

    fn resume(&self, node: &str) -> Result<(), WorkloadError> {
        self.with(|g| match g.resume(node) {
            // Killed by another fault while paused: SIGKILL ended the
            // stopped process, so the pause is healed.
            Err(ProcessError::NotRunning(_)) => Ok(()),
            other => other,
        })
    }

    fn network(&self) -> Option<&dyn NetControl> {
        self.net.get().map(|n| &**n as _)
    }

    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        self.ready(node).map_err(WorkloadError::Db)?;
        Ok(NodeState {
            node: node.to_string(),
            role: "unknown".to_string(),
            term: 0,
            leader: None,
            applied: 0,
        })
    }
}

impl SystemUnderTest for FileDb {
    fn clients(&self) -> Result<Arc<dyn ClientFactory>, RunnerError> {
        let nodes = self
            .endpoints()
            .map_err(|e| RunnerError::System(e.to_string()))?
            .iter()
            .map(|(id, e)| (id.to_string(), e.addr()))
            .collect();
        Ok(Arc::new(AdapterClients {
            spec: self.spec.client.clone(),
            nodes,
            system_dir: self.system_dir.clone(),
            run_dir: self.run_dir.clone(),
            int_values: self.int_values,
        }))
    }
}

/// `path` made absolute against the current folder.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
