//! Checking a run's history and writing `results.json`:
//! `{"verdict","ops":{"ok","fail","info"},"nemesis":{...},"checkers":{"linearizable":<CheckResult>},
//! "throughput","latency_ms":{"p50","p99"}, ...}`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use faultline_checker::{CheckOptions, CheckResult, Format, ModelKind, Verdict, check, parse_file};
use faultline_nemesis::NemesisReport;
use faultline_workloads::stats::{Counts, Latency};
use serde::Serialize;

/// Check `history.jsonl` with `model` within `timeout`.
pub fn check_history(path: &Path, model: &str, timeout: Duration) -> Result<CheckResult> {
    let model: ModelKind = model.parse()?;
    let (history, _) = parse_file(path, Some(Format::Jsonl))
        .with_context(|| format!("reading {}", path.display()))?;
    let opts = CheckOptions {
        timeout: Some(timeout),
        ..CheckOptions::default()
    };
    Ok(check(&history, model, &opts)?)
}

#[derive(Debug, Serialize)]
pub struct Checkers {
    pub linearizable: CheckResult,
}

#[derive(Debug, Serialize)]
pub struct FinalReads {
    pub keys: usize,
    /// Keys no final read succeeded on.
    pub unread: Vec<String>,
    /// Whether a leader was found and a write applied after the heal.
    pub recovered: bool,
}

#[derive(Debug, Serialize)]
pub struct Results {
    pub verdict: Verdict,
    pub ops: Counts,
    pub nemesis: std::collections::BTreeMap<String, u64>,
    pub nemesis_errors: Vec<String>,
    pub checkers: Checkers,
    /// Successful operations per second of workload time.
    pub throughput: f64,
    pub latency_ms: Latency,
    pub final_reads: FinalReads,
    pub interrupted: bool,
}

impl Results {
    pub fn new(
        check: CheckResult,
        ops: Counts,
        latency_ms: Latency,
        workload_secs: f64,
        nemesis: &NemesisReport,
        final_reads: FinalReads,
        interrupted: bool,
    ) -> Results {
        Results {
            verdict: check.verdict,
            ops,
            nemesis: nemesis.counts.clone(),
            nemesis_errors: nemesis.errors.clone(),
            checkers: Checkers {
                linearizable: check,
            },
            throughput: ops.ok as f64 / workload_secs.max(0.001),
            latency_ms,
            final_reads,
            interrupted,
        }
    }

    pub fn write(&self, run_dir: &Path) -> Result<()> {
        let path = run_dir.join("results.json");
        std::fs::write(&path, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", path.display()))
    }
}
