//! [`SshCluster`]: one run's hosts — their sessions, what each offers
//! (architecture, iptables, libfaketime), the run id marking everything the
//! run starts there, and the leftovers record that lets a teardown (or
//! `faultline clean` after a SIGKILL) remove it all. Shared by the harness
//! (processes) and the network control (rules, clocks).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use super::cleanup::{RemoteRun, cleanup_script, run_dir};
use super::error::SshError;
use super::hosts::{Host, HostsFile};
use super::remote::{Remotes, close_masters, quote};
use crate::netns::faketime::ClockEnv;
use crate::netns::{RunId, RunRecord};

/// What the run needs on every host.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// iptables (partitions, packet loss).
    pub iptables: bool,
    /// libfaketime (clock faults).
    pub faketime: bool,
}

/// What a host offers, found by the preflight.
#[derive(Debug, Clone)]
pub struct HostFacts {
    /// `libfaketime.so.1` on the host, if found.
    pub libfaketime: Option<String>,
    pub iptables: bool,
    /// `setpriv` (util-linux): members run under group ids of their own,
    /// which the partition rules match.
    pub setpriv: bool,
}

/// The library paths probed on a host (as locally, see
/// `crate::netns::faketime`).
const FAKETIME_PROBE: &str = "for p in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
     /usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1 /usr/lib64/faketime/libfaketime.so.1 \
     /usr/lib/faketime/libfaketime.so.1 /usr/local/lib/faketime/libfaketime.so.1 \
     /usr/local/lib/libfaketime.so.1 /usr/lib/*/faketime/libfaketime.so.1; do \
     if [ -f \"$p\" ]; then echo \"faketime=$p\"; break; fi; done";

/// One run's hosts.
pub struct SshCluster {
    file: HostsFile,
    run: RunId,
    remotes: RwLock<Option<Remotes>>,
    facts: Vec<HostFacts>,
    record: Mutex<Option<RunRecord>>,
    /// Binaries already uploaded this run: (host, local path) → remote path.
    uploaded: Mutex<BTreeMap<(usize, PathBuf), String>>,
}

impl SshCluster {
    /// Record the run, connect to every host and check each has what the
    /// run needs. Any failure (unreachable host, refused key, unknown host
    /// key, wrong architecture, no root, a missing tool) is an error naming
    /// the host, and nothing is left behind.
    pub fn connect(file: &HostsFile, needs: Needs) -> Result<SshCluster, SshError> {
        let run = RunId::fresh();
        let mut record = RunRecord::new(run.clone());
        let control_dir = record.dir().join("ssh");
        record.remote = Some(RemoteRun {
            hosts: file.clone(),
            control_dir: control_dir.clone(),
        });
        record
            .save()
            .map_err(|e| SshError::Local(format!("cannot record the run: {e}")))?;
        let forget = |record: &RunRecord| {
            close_masters(&control_dir);
            let _ = std::fs::remove_dir_all(record.dir());
        };
        let remotes = match Remotes::connect(file, &control_dir) {
            Ok(r) => r,
            Err(e) => {
                forget(&record);
                return Err(e);
            }
        };
        let mut facts = Vec::new();
        for (i, h) in file.hosts.iter().enumerate() {
            match preflight(&remotes, i, h, needs) {
                Ok(f) => facts.push(f),
                Err(e) => {
                    drop(remotes);
                    forget(&record);
                    return Err(e);
                }
            }
        }
        // Open the quick shells now, so the first fault is as quick as the
        // rest (a host without one falls back to fresh channels).
        for i in 0..file.hosts.len() {
            if let Err(e) = remotes.run_quick(i, "open the quick shell", "true") {
                tracing::warn!(host = %file.hosts[i].describe(), error = %e, "quick shell");
            }
        }
        tracing::info!(%run, hosts = file.hosts.len(), "SSH sessions up");
        Ok(SshCluster {
            file: file.clone(),
            run,
            remotes: RwLock::new(Some(remotes)),
            facts,
            record: Mutex::new(Some(record)),
            uploaded: Mutex::default(),
        })
    }

    pub fn run_id(&self) -> &RunId {
        &self.run
    }

    pub fn hosts(&self) -> &[Host] {
        &self.file.hosts
    }

    pub fn facts(&self, i: usize) -> Option<&HostFacts> {
        self.facts.get(i)
    }

    /// The run folder on host `i`.
    pub fn run_dir(&self, i: usize) -> String {
        run_dir(&self.file.hosts[i], &self.run)
    }

    /// The libfaketime environment of host `i`'s nodes (`None`: the host
    /// has no libfaketime).
    pub fn clock_env(&self, i: usize, fake_monotonic: bool) -> Option<ClockEnv> {
        self.facts(i)?.libfaketime.as_ref().map(|l| ClockEnv {
            library: l.into(),
            fake_monotonic,
        })
    }

    fn with<R>(&self, f: impl FnOnce(&Remotes) -> Result<R, SshError>) -> Result<R, SshError> {
        let guard = self.remotes.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(r) => f(r),
            None => Err(SshError::Local(format!(
                "the SSH sessions of run {} are closed (torn down)",
                self.run
            ))),
        }
    }

    /// Run `script` on host `i` as root; its stdout.
    pub fn run(&self, i: usize, what: &str, script: &str) -> Result<String, SshError> {
        self.with(|r| r.run(i, what, script))
    }

    /// Run the quick `script` on host `i` in its long-lived shell (no
    /// stderr comes back; see [`Remotes::run_quick`]); its stdout.
    pub fn run_quick(&self, i: usize, what: &str, script: &str) -> Result<String, SshError> {
        self.with(|r| r.run_quick(i, what, script))
    }

    /// Run `script` on host `i` with a deadline of its own.
    pub fn run_within(
        &self,
        i: usize,
        what: &str,
        script: &str,
        timeout: Duration,
    ) -> Result<String, SshError> {
        self.with(|r| r.run_with_input(i, what, script, None, timeout))
    }

    /// Upload `local` to host `i` (cached by content hash there, and asked
    /// once per host and run); the remote path.
    pub fn upload_cached(&self, i: usize, local: &Path, name: &str) -> Result<String, SshError> {
        let key = (i, local.to_path_buf());
        if let Some(p) = self
            .uploaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(p.clone());
        }
        let path = self.with(|r| r.upload_cached(i, local, name))?;
        self.uploaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, path.clone());
        Ok(path)
    }

    /// Whether host `i` has `setpriv` (members run under their own group id).
    pub fn has_setpriv(&self, i: usize) -> bool {
        self.facts(i).is_some_and(|f| f.setpriv)
    }

    /// Copy a remote file of host `i` here.
    pub fn fetch(&self, i: usize, remote: &str, local: &Path) -> Result<(), SshError> {
        self.with(|r| r.fetch(i, remote, local))
    }

    /// Remove everything the run made on its hosts (processes, rules, run
    /// folders), close the sessions and drop the record. Idempotent; the
    /// problems that remain (a host that cannot be reached keeps its entry
    /// in the record, so `faultline clean` tries again).
    pub fn teardown(&self) -> Vec<String> {
        let Some(mut record) = self.record.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        for (i, h) in self.file.hosts.iter().enumerate() {
            if let Err(e) = self.run(i, "clean up the run", &cleanup_script(h, &self.run)) {
                problems.push(e.to_string());
            }
        }
        if let Some(mut r) = self
            .remotes
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            r.close();
        }
        if problems.is_empty() {
            if let Some(remote) = record.remote.take() {
                close_masters(&remote.control_dir);
            }
        } else {
            // Leave the remote entry: the record's teardown retries over
            // fresh connections.
            let _ = record.save();
        }
        problems.extend(record.teardown());
        for p in &problems {
            tracing::warn!(run = %self.run, problem = %p, "SSH teardown");
        }
        problems
    }
}

impl std::fmt::Debug for SshCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshCluster")
            .field("run", &self.run)
            .field("hosts", &self.file.hosts)
            .finish_non_exhaustive()
    }
}

impl Drop for SshCluster {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Check host `i`: root (directly or through `sudo -n`), the same CPU
/// architecture as here (the binaries are copied), iptables and
/// libfaketime when needed.
fn preflight(remotes: &Remotes, i: usize, h: &Host, needs: Needs) -> Result<HostFacts, SshError> {
    let script = format!(
        "echo uid=$(id -u); echo arch=$(uname -m); \
         if command -v iptables >/dev/null 2>&1 && iptables -S OUTPUT >/dev/null 2>&1; then echo iptables=yes; fi; \
         if command -v setpriv >/dev/null 2>&1; then echo setpriv=yes; fi; \
         {FAKETIME_PROBE}; mkdir -p {dir} && echo dir=ok",
        dir = quote(&h.dir)
    );
    let out = remotes.run(i, "check the host", &script)?;
    let field = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(k).map(str::to_string))
    };
    let unsuitable = |detail: String| SshError::Unsuitable {
        host: h.describe(),
        detail,
    };
    if field("uid=").as_deref() != Some("0") {
        return Err(unsuitable(format!(
            "commands run as uid {} but faultline needs root there (iptables, signals, libfaketime): connect as root or set `sudo = true` with passwordless sudo for {}",
            field("uid=").unwrap_or_else(|| "?".into()),
            h.user
        )));
    }
    let here = std::env::consts::ARCH;
    let there = field("arch=").unwrap_or_default();
    if there != here {
        return Err(unsuitable(format!(
            "its CPU is {there:?} but this machine's is {here:?}: the kvnode binary copied there would not run"
        )));
    }
    if field("dir=").is_none() {
        return Err(unsuitable(format!(
            "cannot create its work folder {}",
            h.dir
        )));
    }
    let facts = HostFacts {
        libfaketime: field("faketime="),
        iptables: field("iptables=").is_some(),
        setpriv: field("setpriv=").is_some(),
    };
    if needs.iptables && !facts.iptables {
        return Err(unsuitable(
            "iptables is missing or unusable (partitions and packet loss need it): apt-get install iptables".into(),
        ));
    }
    if needs.iptables && !facts.setpriv {
        return Err(unsuitable(
            "setpriv is missing (partitions and packet loss tell the nodes apart by the group id setpriv gives each): apt-get install util-linux".into(),
        ));
    }
    if needs.faketime && facts.libfaketime.is_none() {
        return Err(unsuitable(
            "libfaketime.so.1 is missing (clock faults need it): apt-get install libfaketime"
                .into(),
        ));
    }
    Ok(facts)
}
