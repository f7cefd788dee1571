//! Per-run markers, so `faultline clean` can find what a killed runner left:
//! `$FAULTLINE_RUNS_DIR` (default `/tmp/faultline-runs`) `/<run-id>/` holds
//! `runner.pid` (the faultline process), `pids` (one `<node> <pid>
//! <command>` line per node process the system under test runs, rewritten
//! after setup, every kill and restart, and teardown) and `run_dir` (the run
//! folder). A run removes its marker folder when it ends.
//!
//! [`MarkedDb`] keeps the marker true: it wraps the system under test and
//! rewrites `pids` from [`Db::processes`] whenever they may have changed;
//! dropped, it tears the system down first (also on an error or a panic),
//! then removes the marker.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use faultline_workloads::{
    ClientFactory, Db, MembershipControl, NetControl, NodeProcess, NodeState, ShardControl,
    StopFlag, WorkloadError,
};

use crate::error::RunnerError;
use crate::system::SystemUnderTest;

/// The folder holding every run's marker folder.
pub fn runs_dir() -> PathBuf {
    std::env::var_os("FAULTLINE_RUNS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/faultline-runs"))
}

/// The marker folder of one run.
#[derive(Debug)]
pub struct Marker {
    dir: PathBuf,
}

impl Marker {
    /// Create `<runs_dir>/<run_id>/` with this process's pid and the run folder.
    pub fn create(run_id: &str, run_dir: &Path) -> Result<Marker, RunnerError> {
        let dir = runs_dir().join(run_id);
        std::fs::create_dir_all(&dir).map_err(|e| RunnerError::io(&dir, e))?;
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| RunnerError::io(&path, e))
        };
        write("runner.pid", std::process::id().to_string())?;
        write("run_dir", run_dir.display().to_string())?;
        Ok(Marker { dir })
    }

    /// Record the node processes now running.
    pub fn write_processes(&self, procs: &[NodeProcess]) {
        let text: String = procs
            .iter()
            .map(|p| format!("{} {} {}\n", p.node, p.pid, p.command))
            .collect();
        let tmp = self.dir.join("pids.tmp");
        let written =
            std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, self.dir.join("pids")));
        if let Err(e) = written {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write the pid marker");
        }
    }
}

/// Dropped when the run ends (its node processes are stopped by then, also
/// on an error or a panic): the marker folder goes with it.
impl Drop for Marker {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What one marker folder says.
#[derive(Debug)]
pub struct Leftover {
    pub run_id: String,
    pub dir: PathBuf,
    pub runner_pid: Option<i32>,
    /// (node, pid, command); markers of older versions name no command and
    /// only ever listed kvnode processes.
    pub processes: Vec<(String, i32, String)>,
}

/// Read every marker folder.
pub fn leftovers() -> Vec<Leftover> {
    let Ok(entries) = std::fs::read_dir(runs_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<Leftover> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let dir = e.path();
            let runner_pid = std::fs::read_to_string(dir.join("runner.pid"))
                .ok()
                .and_then(|s| s.trim().parse().ok());
            let processes = std::fs::read_to_string(dir.join("pids"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| {
                    let mut parts = l.split_whitespace();
                    let node = parts.next()?.to_string();
                    let pid = parts.next()?.parse().ok()?;
                    let command = parts.next().unwrap_or("kvnode").to_string();
                    Some((node, pid, command))
                })
                .collect();
            Leftover {
                run_id: e.file_name().to_string_lossy().into_owned(),
                dir,
                runner_pid,
                processes,
            }
        })
        .collect();
    out.sort_by(|a, b| a.run_id.cmp(&b.run_id));
    out
}

/// The command name of a live process (`/proc/<pid>/comm`), if it exists.
pub fn process_name(pid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// The system under test with its marker kept up to date.
pub struct MarkedDb {
    inner: Box<dyn SystemUnderTest>,
    marker: Marker,
}

impl MarkedDb {
    pub fn new(inner: Box<dyn SystemUnderTest>, marker: Marker) -> MarkedDb {
        MarkedDb { inner, marker }
    }

    fn update(&self) {
        self.marker.write_processes(&self.inner.processes());
    }

    /// The system's clients.
    pub fn clients(&self) -> Result<Arc<dyn ClientFactory>, RunnerError> {
        self.inner.clients()
    }
}

impl Drop for MarkedDb {
    fn drop(&mut self) {
        if let Err(e) = self.inner.teardown() {
            tracing::warn!(error = %e, "tearing the system down");
        }
        self.update();
    }
}

impl Db for MarkedDb {
    fn setup(&self) -> Result<(), WorkloadError> {
        let r = self.inner.setup();
        self.update();
        r
    }
    fn await_ready(&self, stop: &StopFlag) -> Result<(), WorkloadError> {
        self.inner.await_ready(stop)
    }
    fn await_recovery(&self, deadline: Instant, stop: &StopFlag) -> bool {
        self.inner.await_recovery(deadline, stop)
    }
    fn teardown(&self) -> Result<(), WorkloadError> {
        let r = self.inner.teardown();
        self.update();
        r
    }
    fn log_files(&self) -> Vec<(String, PathBuf)> {
        self.inner.log_files()
    }
    fn processes(&self) -> Vec<NodeProcess> {
        self.inner.processes()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn nodes(&self) -> Vec<String> {
        self.inner.nodes()
    }
    fn kill(&self, node: &str) -> Result<(), WorkloadError> {
        let r = self.inner.kill(node);
        self.update();
        r
    }
    fn restart(&self, node: &str) -> Result<(), WorkloadError> {
        let r = self.inner.restart(node);
        self.update();
        r
    }
    fn lose_unsynced(&self, node: &str, tear: bool) -> Result<serde_json::Value, WorkloadError> {
        self.inner.lose_unsynced(node, tear)
    }
    fn pause(&self, node: &str) -> Result<(), WorkloadError> {
        self.inner.pause(node)
    }
    fn resume(&self, node: &str) -> Result<(), WorkloadError> {
        self.inner.resume(node)
    }
    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        self.inner.status(node)
    }
    fn network(&self) -> Option<&dyn NetControl> {
        self.inner.network()
    }
    fn clock_drift_pct(&self) -> Option<u32> {
        self.inner.clock_drift_pct()
    }
    fn shards(&self) -> Option<&dyn ShardControl> {
        self.inner.shards()
    }
    fn groups(&self) -> Vec<Vec<String>> {
        self.inner.groups()
    }
    fn leader(&self) -> Option<String> {
        self.inner.leader()
    }
    fn membership(&self) -> Option<&dyn MembershipControl> {
        self.inner.membership().map(|_| self as _)
    }
}

/// Membership changes start processes: the marker learns them at once.
impl MembershipControl for MarkedDb {
    fn members(&self) -> Vec<String> {
        self.inner
            .membership()
            .map(|m| m.members())
            .unwrap_or_default()
    }
    fn add_fresh(&self) -> Result<String, WorkloadError> {
        let m = self.inner.membership().ok_or_else(no_membership)?;
        let r = m.add_fresh();
        self.update();
        r
    }
    fn remove(&self, node: &str) -> Result<(), WorkloadError> {
        self.inner
            .membership()
            .ok_or_else(no_membership)?
            .remove(node)
    }
}

fn no_membership() -> WorkloadError {
    WorkloadError::Db("this system has no membership changes".into())
}
