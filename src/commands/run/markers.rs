//! Per-run markers, so `faultline clean` can find what a killed runner left:
//! `$FAULTLINE_RUNS_DIR` (default `/tmp/faultline-runs`) `/<run-id>/` holds
//! `runner.pid` (the faultline process), `pids` (one `<node> <pid>` line per
//! node process it started, rewritten after every restart) and `run_dir`
//! (the run folder). A clean run removes its marker folder at the end.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

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
    pub fn create(run_id: &str, run_dir: &Path) -> Result<Marker> {
        let dir = runs_dir().join(run_id);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the run marker {}", dir.display()))?;
        std::fs::write(dir.join("runner.pid"), std::process::id().to_string())
            .with_context(|| format!("writing {}", dir.join("runner.pid").display()))?;
        std::fs::write(dir.join("run_dir"), run_dir.display().to_string())
            .with_context(|| format!("writing {}", dir.join("run_dir").display()))?;
        Ok(Marker { dir })
    }

    /// Record the node processes now running, as (node, pid).
    pub fn write_pids(&self, pids: &[(String, u32)]) {
        let text: String = pids.iter().map(|(n, p)| format!("{n} {p}\n")).collect();
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
    pub pids: Vec<(String, i32)>,
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
            let pids = std::fs::read_to_string(dir.join("pids"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| {
                    let (n, p) = l.split_once(' ')?;
                    Some((n.to_string(), p.trim().parse().ok()?))
                })
                .collect();
            Leftover {
                run_id: e.file_name().to_string_lossy().into_owned(),
                dir,
                runner_pid,
                pids,
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
