//! The typed schema of a run folder's `test.json` and `results.json`
//! (DESIGN.md's store layout): the runner writes these types, the reports
//! and the nightly read them, so a key is named in exactly one place.
//! Every field but a result's `verdict` may be missing (it reads as its
//! default), so run folders written by older versions, or by hand for a
//! test, still read; a present field of the wrong type is an error naming
//! the file. Option keys a writer added beyond these are kept in
//! [`TestOptions::extra`] and shown as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use faultline_checker::{CheckerOutcome, Verdict};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ReportError, Result};

/// The file names of a run folder.
pub const TEST_FILE: &str = "test.json";
pub const RESULTS_FILE: &str = "results.json";
pub const HISTORY_FILE: &str = "history.jsonl";

/// `test.json`: what was run, written when the run starts and rewritten
/// when it ends (so even a killed runner leaves one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TestRecord {
    pub name: String,
    pub seed: u64,
    /// Names what the run made (marker folder, processes) for `faultline clean`.
    pub run_id: String,
    /// `netns`: one network namespace per node; `loopback`: 127.0.0.1 ports.
    pub mode: String,
    /// The namespace run id (`fl-<id>-n<node>` namespaces), in netns mode.
    #[serde(default)]
    pub netns_run: Option<String>,
    /// What ran, as the system said at the start (e.g. "3 kvnodes").
    #[serde(default)]
    pub system: Option<String>,
    pub options: TestOptions,
    /// Nemesis packages with their plot colours, in order.
    #[serde(default)]
    pub nemesis_packages: Vec<PackageRecord>,
    pub versions: Versions,
    /// RFC 3339.
    pub start: String,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub interrupted: bool,
    /// Why the run could not complete, if it could not.
    #[serde(default)]
    pub error: Option<String>,
    /// How to replay this run's choices.
    #[serde(default)]
    pub replay: String,
}

/// Every option of a test, resolved (defaults filled in, seed drawn).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TestOptions {
    pub name: String,
    /// The system under test (`--db`).
    pub db: String,
    pub workload: String,
    /// The checker's model (`cas-register`, `kv`).
    pub model: String,
    /// Nemesis package names, in order (empty: none).
    pub nemesis: Vec<String>,
    pub nemesis_interval_s: f64,
    pub time_limit_s: u64,
    pub concurrency: usize,
    #[serde(default)]
    pub rate: Option<f64>,
    pub keys: usize,
    pub ops_per_key: u64,
    /// Shard groups (0: not sharded).
    #[serde(default)]
    pub groups: usize,
    pub replicas: usize,
    #[serde(default)]
    pub bug: Option<String>,
    pub seed: u64,
    pub test_count: usize,
    pub store: PathBuf,
    pub check_timeout_s: f64,
    #[serde(default)]
    pub etcd_serializable_reads: bool,
    #[serde(default)]
    pub no_netns: bool,
    /// Nodes run in network namespaces.
    #[serde(default)]
    pub netns: bool,
    pub attempt_timeout_ms: u64,
    /// Options a writer recorded beyond these (shown as they are).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A nemesis package as the report colours it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRecord {
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
}

/// Versions of what wrote the run folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Versions {
    pub faultline: String,
    pub history_format: String,
}

impl Versions {
    /// This build's versions.
    pub fn current() -> Versions {
        Versions {
            faultline: env!("CARGO_PKG_VERSION").to_string(),
            history_format: "faultline-jsonl-1".to_string(),
        }
    }
}

/// `results.json`: the verdict, the counts and every checker's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    /// Every checker's verdict folded: invalid over unknown over valid.
    pub verdict: Verdict,
    #[serde(default)]
    pub ops: OpCounts,
    /// Faults started per nemesis package.
    #[serde(default)]
    pub nemesis: BTreeMap<String, u64>,
    /// Nemesis actions that failed, as "start-kill: error".
    #[serde(default)]
    pub nemesis_errors: Vec<String>,
    /// Each checker's outcome by name (`linearizable`, `stats`, ...).
    #[serde(default)]
    pub checkers: BTreeMap<String, CheckerOutcome>,
    /// Successful operations per second of workload time.
    #[serde(default)]
    pub throughput: f64,
    #[serde(default)]
    pub latency_ms: LatencySummary,
    #[serde(default)]
    pub final_reads: FinalReads,
    /// The run was stopped early: a partial history.
    #[serde(default)]
    pub interrupted: bool,
}

/// Completed client operations by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpCounts {
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

/// Latency quantiles of completed operations, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LatencySummary {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

/// The reads made after the final heal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FinalReads {
    pub keys: usize,
    /// Keys no final read succeeded on.
    #[serde(default)]
    pub unread: Vec<String>,
    /// Whether the system served again (a leader, an applied write) after the heal.
    #[serde(default)]
    pub recovered: bool,
}

/// Read and parse one of a run folder's JSON files, naming the file in any error.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    serde_json::from_str(&text).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        line: None,
        source,
    })
}

/// Write one of a run folder's JSON files (pretty, atomically: a temporary
/// file renamed over it, so a reader never sees half a file).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        line: None,
        source,
    })? + "\n";
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| ReportError::io(path, e))
}
