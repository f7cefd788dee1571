//! Checking a test's history and its `results.json`: the checkers a test
//! runs (composed: linearizability against the workload's model, and the
//! operation stats), and the results record of the store's schema.

use std::path::Path;
use std::time::Duration;

use faultline_checker::{Checker, Composed, Format, Linearizable, OpStats, compose, parse_file};
use faultline_nemesis::NemesisReport;
use faultline_reports::schema::{FinalReads, LatencySummary, OpCounts, RunResults};
use faultline_workloads::stats::{Counts, Latency};

use crate::error::RunnerError;
use crate::plan::Plan;

/// The checkers of a test, composed in results.json under their names.
pub fn checkers(plan: &Plan, timeout: Duration) -> Vec<Box<dyn Checker>> {
    vec![
        Box::new(Linearizable::new(plan.model_kind, timeout)),
        Box::new(OpStats),
    ]
}

/// Check `history.jsonl` with `checkers`.
pub fn check_history(path: &Path, checkers: &[Box<dyn Checker>]) -> Result<Composed, RunnerError> {
    let (history, _) = parse_file(path, Some(Format::Jsonl))?;
    Ok(compose(checkers, &history))
}

/// The counts and figures of a finished test, besides its checks.
pub struct Tally {
    pub ops: Counts,
    pub latency: Latency,
    pub workload_secs: f64,
    pub final_reads: FinalReads,
    pub interrupted: bool,
}

/// The results record of a checked test.
pub fn results(composed: Composed, tally: Tally, nemesis: &NemesisReport) -> RunResults {
    let ops = tally.ops;
    RunResults {
        verdict: composed.verdict,
        ops: OpCounts {
            ok: ops.ok,
            fail: ops.fail,
            info: ops.info,
        },
        nemesis: nemesis.counts.clone(),
        nemesis_errors: nemesis.errors.clone(),
        checkers: composed.results,
        throughput: ops.ok as f64 / tally.workload_secs.max(0.001),
        latency_ms: LatencySummary {
            p50: tally.latency.p50,
            p99: tally.latency.p99,
        },
        final_reads: tally.final_reads,
        interrupted: tally.interrupted,
    }
}
