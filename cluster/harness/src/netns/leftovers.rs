//! The on-disk record of what a run created (namespaces, devices, iptables
//! rules, faketime files, pids) and its owner process, written before each
//! thing is created; and the teardown that removes everything a record
//! lists. Teardown is idempotent (what is already gone is skipped), so the
//! owner's `Drop`, its Ctrl-C path ([`cleanup_own_runs`]) and `faultline
//! clean` ([`cleanup_leftovers`], for runs whose owner died) share it.
//!
//! Records live in `$FAULTLINE_NETNS_DIR`, else `/run/faultline/netns`
//! (cleared on reboot, like namespaces), else `<tmp>/faultline/netns`:
//! `<dir>/<runid>/netns.json` next to the run's faketime files.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::cmd::{ip_cmd, link_exists, namespaces, netns_pids};
use super::error::NetnsError;
use super::firewall::Rule;
use super::names::RunId;

/// What one run created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: RunId,
    pub owner_pid: u32,
    /// The owner's start time (clock ticks since boot), so a reused pid is
    /// not taken for a live owner.
    pub owner_start: Option<u64>,
    pub namespaces: Vec<String>,
    /// Host-side devices (bridge, veth ends).
    pub devices: Vec<String>,
    pub rules: Vec<Rule>,
    pub files: Vec<PathBuf>,
    pub pids: Vec<u32>,
    /// Nodes on remote hosts (`faultline run --hosts`): what to remove there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<crate::ssh::RemoteRun>,
}

/// Where records are kept.
pub fn runs_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FAULTLINE_NETNS_DIR") {
        return PathBuf::from(d);
    }
    if Path::new("/run").is_dir() && super::cmd::euid() == 0 {
        return PathBuf::from("/run/faultline/netns");
    }
    std::env::temp_dir().join("faultline").join("netns")
}

/// The start time of process `pid` (field 22 of `/proc/<pid>/stat`).
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

impl RunRecord {
    /// A new, empty record owned by this process.
    pub fn new(run_id: RunId) -> RunRecord {
        let pid = std::process::id();
        RunRecord {
            run_id,
            owner_pid: pid,
            owner_start: process_start(pid),
            namespaces: Vec::new(),
            devices: Vec::new(),
            rules: Vec::new(),
            files: Vec::new(),
            pids: Vec::new(),
            remote: None,
        }
    }

    /// The run's folder (`<runs_dir>/<runid>`).
    pub fn dir(&self) -> PathBuf {
        runs_dir().join(self.run_id.as_str())
    }

    fn path(&self) -> PathBuf {
        self.dir().join("netns.json")
    }

    /// Write the record (atomically).
    pub fn save(&self) -> Result<(), NetnsError> {
        let dir = self.dir();
        std::fs::create_dir_all(&dir).map_err(NetnsError::io("create", &dir))?;
        let path = self.path();
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec_pretty(self).map_err(|source| NetnsError::Record {
            path: path.clone(),
            source,
        })?;
        std::fs::write(&tmp, text).map_err(NetnsError::io("write", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(NetnsError::io("rename", &path))
    }

    /// Read the record at `path`.
    pub fn load(path: &Path) -> Result<RunRecord, NetnsError> {
        let text = std::fs::read(path).map_err(NetnsError::io("read", path))?;
        serde_json::from_slice(&text).map_err(|source| NetnsError::Record {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Whether the owner process is still running.
    pub fn owner_alive(&self) -> bool {
        process_start(self.owner_pid).is_some_and(|s| self.owner_start.is_none_or(|o| o == s))
    }

    /// Remove everything the record lists, then the run's folder. Already
    /// removed things are skipped; the problems that remain are returned.
    pub fn teardown(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(remote) = &self.remote {
            problems.extend(remote.teardown(&self.run_id));
        }
        let existing = namespaces().unwrap_or_default();
        // Host rules do not go away with a namespace.
        for r in self.rules.iter().filter(|r| r.ns.is_none()) {
            if let Err(e) = r.delete() {
                tracing::debug!(error = %e, "host rule already gone");
            }
        }
        for ns in self.namespaces.iter().filter(|ns| existing.contains(ns)) {
            kill_namespace_processes(ns);
            // Its rules and its end of each veth pair go with it.
            // A concurrent `clean` (or the owner's own Drop) may have removed
            // it between the listing and here: only a namespace that is
            // still there is a problem.
            if let Err(e) = ip_cmd(&["netns", "del", ns])
                && namespaces().unwrap_or_default().contains(ns)
            {
                problems.push(e.to_string());
            }
        }
        for pid in &self.pids {
            kill_if_in_run(*pid, &self.run_id);
        }
        for dev in &self.devices {
            if link_exists(dev)
                && let Err(e) = ip_cmd(&["link", "del", "dev", dev])
                && link_exists(dev)
            {
                problems.push(e.to_string());
            }
        }
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        let dir = self.dir();
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            problems.push(format!("remove {}: {e}", dir.display()));
        }
        problems
    }
}

/// SIGKILL every process in namespace `ns` and wait (up to 2 s) for them to go.
fn kill_namespace_processes(ns: &str) {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let pids = netns_pids(ns);
        if pids.is_empty() || Instant::now() >= until {
            return;
        }
        for pid in pids {
            // A pid just listed inside this run's namespace; one already
            // gone is fine.
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The environment variable naming the run in each of its node processes.
pub const RUN_ENV: &str = "FAULTLINE_NETNS_RUN";

/// Whether process `pid` belongs to run `run` (its environment carries
/// [`RUN_ENV`]`=<run>`).
pub fn process_in_run(pid: u32, run: &RunId) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let needle = format!("{RUN_ENV}={run}");
    environ.split(|&b| b == 0).any(|v| v == needle.as_bytes())
}

/// SIGKILL `pid` if it still belongs to `run` (a recorded kvnode whose
/// namespace is already gone; a reused pid is left alone).
fn kill_if_in_run(pid: u32, run: &RunId) {
    if process_in_run(pid, run) {
        // A process whose environment names this run; one already gone is
        // fine.
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
}

/// What a cleanup pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CleanReport {
    /// Runs whose leftovers were removed.
    pub cleaned: Vec<String>,
    /// Runs left alone because their owner is alive.
    pub live: Vec<String>,
    /// What could not be removed.
    pub problems: Vec<String>,
}

fn records() -> Vec<(PathBuf, Option<RunRecord>)> {
    let dir = runs_dir();
    std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| RunId::parse(&e.file_name().to_string_lossy()).is_some())
        .map(|e| {
            let path = e.path();
            let rec = RunRecord::load(&path.join("netns.json")).ok();
            (path, rec)
        })
        .collect()
}

/// Hold an exclusive lock on the records folder, so two cleanup passes (two
/// `faultline clean`s, or a clean and a Ctrl-C handler) do not tear down the
/// same record at once. `None` when the folder cannot be locked (then the
/// idempotent teardown still copes).
fn lock_records() -> Option<nix::fcntl::Flock<std::fs::File>> {
    let dir = runs_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".clean.lock"))
        .ok()?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive).ok()
}

fn clean_where(pred: impl Fn(&RunRecord) -> bool) -> CleanReport {
    let _lock = lock_records();
    let mut report = CleanReport::default();
    for (dir, rec) in records() {
        match rec {
            Some(rec) if pred(&rec) => {
                report.problems.extend(rec.teardown());
                report.cleaned.push(rec.run_id.to_string());
            }
            Some(rec) => report.live.push(rec.run_id.to_string()),
            None => {
                // No readable record: nothing was created; a fresh folder may
                // be a run being set up right now, so only old ones go.
                let old = std::fs::metadata(&dir)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(60));
                if old {
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
        }
    }
    report
}

/// Remove everything left by runs whose owner process is dead (`faultline
/// clean`). Runs of live processes are left alone.
pub fn cleanup_leftovers() -> CleanReport {
    clean_where(|r| !r.owner_alive())
}

/// Remove everything this process's runs created: for a Ctrl-C/SIGTERM
/// handler that exits without running destructors. Idempotent.
pub fn cleanup_own_runs() -> CleanReport {
    let me = std::process::id();
    clean_where(|r| r.owner_pid == me)
}
