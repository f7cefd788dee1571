//! The run folder of DESIGN.md's store layout,
//! `<store>/<test-name>/<YYYYmmddTHHMMSS>/`, and its `test.json`: every
//! option, the seed, versions, the run id, start and end time, and whether
//! the run was interrupted. test.json is written when the run starts and
//! rewritten when it ends, so even a killed runner leaves one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::plan::Plan;

/// A new, empty run folder named by the current UTC second (waiting for the
/// next second if a run of the same test already took this one).
pub fn create_run_dir(store: &Path, test: &str) -> Result<(PathBuf, DateTime<Utc>)> {
    let parent = store.join(test);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("creating the store folder {}", parent.display()))?;
    loop {
        let now = Utc::now();
        let dir = parent.join(now.format("%Y%m%dT%H%M%S").to_string());
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((dir, now)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
}

/// The content of test.json.
#[derive(Debug, Clone, Serialize)]
pub struct TestRecord {
    pub name: String,
    pub seed: u64,
    pub run_id: String,
    /// `netns`: one network namespace per node (partitions, clock and packet
    /// faults available); `loopback`: kvnode processes on 127.0.0.1 ports.
    pub mode: &'static str,
    /// The namespace run id (`fl-<id>-n<node>` namespaces), in netns mode.
    pub netns_run: Option<String>,
    pub options: Plan,
    /// Nemesis packages with their plot colours.
    pub nemesis_packages: Vec<Value>,
    pub versions: Value,
    pub start: String,
    pub end: Option<String>,
    pub interrupted: bool,
    /// Why the run could not complete, if it could not.
    pub error: Option<String>,
    /// How to replay this run's choices.
    pub replay: String,
}

impl TestRecord {
    pub fn write(&self, run_dir: &Path) -> Result<()> {
        let path = run_dir.join("test.json");
        std::fs::write(&path, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", path.display()))
    }
}

/// Versions of what ran.
pub fn versions() -> Value {
    serde_json::json!({
        "faultline": env!("CARGO_PKG_VERSION"),
        "history_format": "faultline-jsonl-1",
    })
}
