//! What a run leaves on its hosts and how it is removed: node processes
//! (known by the run marker in their environment), the run's iptables rules
//! (known by their `fl-<run>-` comment, in OUTPUT; INPUT too, where
//! earlier versions put them), the run folder `<dir>/runs/<run>`;
//! and on this machine the ControlMaster sockets. [`RemoteRun`] is entered
//! in the run's leftovers record (`crate::netns::RunRecord`) before the
//! first connection, so the owner's teardown, its Ctrl-C path and
//! `faultline clean` after a SIGKILL all remove the same things. The
//! content-addressed binaries under `<dir>/bin/` are a cache and stay.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::hosts::{Host, HostsFile};
use super::remote::{close_masters, plain_ssh, quote, remote_command};
use crate::netns::{RUN_ENV, RunId};

/// A run's remote side, as its leftovers record keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteRun {
    pub hosts: HostsFile,
    /// Where the ControlMaster sockets live (on this machine).
    pub control_dir: PathBuf,
}

/// The run folder on `host`.
pub fn run_dir(host: &Host, run: &RunId) -> String {
    format!("{}/runs/{run}", host.dir)
}

/// The script removing `run`'s processes, rules and folder from `host`.
pub fn cleanup_script(host: &Host, run: &RunId) -> String {
    let marker = quote(&format!("{RUN_ENV}={run}"));
    let comment = quote(&format!("--comment fl-{run}-"));
    let dir = quote(&run_dir(host, run));
    format!(
        "for p in /proc/[0-9]*; do \
           if tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qxF {marker}; then kill -KILL ${{p#/proc/}} 2>/dev/null; fi; \
         done; \
         if command -v iptables >/dev/null 2>&1; then \
           for c in OUTPUT INPUT; do \
             iptables -S $c 2>/dev/null | grep -F -- {comment} | sed 's/^-A /-D /' | while read -r r; do iptables $r; done; \
           done; \
         fi; \
         rm -rf {dir}; rmdir {runs} 2>/dev/null; true",
        runs = quote(&format!("{}/runs", host.dir)),
    )
}

impl RemoteRun {
    /// Remove what `run` left on every host (through fresh ssh
    /// connections: the owner and its sessions may be gone), then close
    /// the masters still listening here. The problems that remain.
    pub fn teardown(&self, run: &RunId) -> Vec<String> {
        let mut problems = Vec::new();
        for h in &self.hosts.hosts {
            let cmd = remote_command(h, &cleanup_script(h, run));
            let out = plain_ssh(&self.hosts, h, &cmd)
                .stdin(std::process::Stdio::null())
                .output();
            match out {
                Ok(o) if o.status.success() => {}
                Ok(o) => problems.push(format!(
                    "cleaning run {run} on {}: ssh {}: {}",
                    h.describe(),
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim()
                )),
                Err(e) => problems.push(format!("cannot run ssh to clean {}: {e}", h.describe())),
            }
        }
        close_masters(&self.control_dir);
        let _ = std::fs::remove_dir_all(&self.control_dir);
        problems
    }
}
