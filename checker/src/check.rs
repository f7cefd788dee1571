//! `check`: pairs a history into operations, partitions them by key
//! (P-compositionality: a history is linearizable iff every key's
//! sub-history is), checks partitions in parallel on all cores (largest
//! first), stops at the first invalid one unless asked for all, and folds
//! the results into one verdict. Never valid by assumption: a budget that
//! runs out gives Unknown with the reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::budget::{Budget, Exhausted};
use crate::counterexample::{self, Counterexample};
use crate::error::CheckError;
use crate::history::History;
use crate::models::{CasRegister, Joint, Kv, Model, ModelKind, Register};
use crate::ops::{Operation, pair};
use crate::search::{Outcome, SearchOp, search};

/// How to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Wall-clock budget for the whole check.
    pub timeout: Option<Duration>,
    /// Memo memory allowed per partition search, in bytes.
    pub max_memory: usize,
    /// Check every partition even after one is invalid.
    pub all: bool,
    /// Check the whole history as one partition (one state for all keys).
    pub no_partition: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { timeout: None, max_memory: 4 << 30, all: false, no_partition: false }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Valid,
    Invalid,
    Unknown,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The result of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartitionVerdict {
    Valid,
    Invalid,
    Unknown,
    /// Not checked to the end: another partition was invalid first.
    Skipped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartitionResult {
    pub key: Option<String>,
    pub ops: usize,
    pub verdict: PartitionVerdict,
    pub reason: Option<String>,
    pub elapsed_s: f64,
    pub steps: u64,
    pub memo_entries: usize,
    pub memo_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub verdict: Verdict,
    pub model: ModelKind,
    /// Operations checked (after dropping failed ones and unknown reads).
    pub ops: usize,
    /// `fail` operations dropped (never took effect).
    pub failed: usize,
    /// Reads with unknown outcome dropped (they constrain nothing).
    pub unknown_reads: usize,
    /// Operations with unknown outcome (`info` or never completed).
    pub info: usize,
    pub partitions: usize,
    /// Checking time (pairing included, parsing excluded).
    pub elapsed_s: f64,
    pub counterexample: Option<Counterexample>,
    /// Why the verdict is unknown.
    pub reason: Option<String>,
    pub partition_results: Vec<PartitionResult>,
}

/// Checks `history` for linearizability against `model`.
pub fn check(history: &History, model: ModelKind, opts: &CheckOptions) -> Result<CheckResult, CheckError> {
    let start = Instant::now();
    let paired = pair(history)?;
    let ops = &paired.ops;
    let groups: Vec<(Option<Arc<str>>, Vec<&Operation>)> = if opts.no_partition {
        vec![(None, ops.iter().collect())]
    } else {
        partition(ops)
    };
    let joint = opts.no_partition && {
        let first = ops.first().map(|o| &o.key);
        ops.iter().any(|o| Some(&o.key) != first)
    };
    let stop = AtomicBool::new(false);
    let budget = Budget {
        deadline: opts.timeout.map(|t| start + t),
        timeout: opts.timeout,
        max_memo_bytes: opts.max_memory,
        stop: &stop,
    };
    let runs: Vec<Result<(PartitionResult, Option<Counterexample>), CheckError>> = groups
        .par_iter()
        .map(|(key, group)| {
            let key = key.as_deref();
            let run = match (model, joint) {
                (ModelKind::Register, false) => run_partition::<Register>(key, group, &budget),
                (ModelKind::CasRegister, false) => run_partition::<CasRegister>(key, group, &budget),
                (ModelKind::Kv, false) => run_partition::<Kv>(key, group, &budget),
                (ModelKind::Register, true) => run_partition::<Joint<Register>>(key, group, &budget),
                (ModelKind::CasRegister, true) => run_partition::<Joint<CasRegister>>(key, group, &budget),
                (ModelKind::Kv, true) => run_partition::<Joint<Kv>>(key, group, &budget),
            };
            if matches!(&run, Ok((r, _)) if r.verdict == PartitionVerdict::Invalid) && !opts.all {
                stop.store(true, Ordering::Relaxed);
            }
            if run.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            run
        })
        .collect();
    let mut results = Vec::with_capacity(runs.len());
    let mut counterexample = None;
    for run in runs {
        let (r, cx) = run?;
        if counterexample.is_none() {
            counterexample = cx;
        }
        results.push(r);
    }
    let verdict = if results.iter().any(|r| r.verdict == PartitionVerdict::Invalid) {
        Verdict::Invalid
    } else if results.iter().all(|r| r.verdict == PartitionVerdict::Valid) {
        Verdict::Valid
    } else {
        Verdict::Unknown
    };
    let reason = match verdict {
        Verdict::Unknown => {
            let unknown: Vec<&PartitionResult> = results.iter().filter(|r| r.verdict != PartitionVerdict::Valid).collect();
            let first = unknown.first().and_then(|r| r.reason.clone()).unwrap_or_default();
            Some(if unknown.len() > 1 {
                format!("{first} ({} of {} partitions undecided)", unknown.len(), results.len())
            } else {
                first
            })
        }
        _ => None,
    };
    results.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(CheckResult {
        verdict,
        model,
        ops: ops.len(),
        failed: paired.failed,
        unknown_reads: paired.unknown_reads,
        info: ops.iter().filter(|o| o.is_info()).count(),
        partitions: results.len(),
        elapsed_s: start.elapsed().as_secs_f64(),
        counterexample,
        reason,
        partition_results: results,
    })
}

/// Groups operations by key, largest group first (for load balance).
fn partition(ops: &[Operation]) -> Vec<(Option<Arc<str>>, Vec<&Operation>)> {
    let mut index: HashMap<Option<&str>, usize> = HashMap::new();
    let mut groups: Vec<(Option<Arc<str>>, Vec<&Operation>)> = Vec::new();
    for op in ops {
        let slot = *index.entry(op.key.as_deref()).or_insert_with(|| {
            groups.push((op.key.clone(), Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(op);
    }
    groups.sort_by_key(|(_, g)| std::cmp::Reverse(g.len()));
    groups
}

fn run_partition<M: Model>(
    key: Option<&str>,
    ops: &[&Operation],
    budget: &Budget<'_>,
) -> Result<(PartitionResult, Option<Counterexample>), CheckError> {
    let start = Instant::now();
    let (mut model, compiled) = M::compile(ops)?;
    let search_ops: Vec<SearchOp<M::Op>> = ops
        .iter()
        .zip(&compiled)
        .map(|(o, &op)| SearchOp { call: o.call, ret: (!o.is_info()).then_some(o.ret), op })
        .collect();
    let (outcome, stats) = search(&mut model, &search_ops, budget, false);
    let (verdict, reason, counterexample) = match outcome {
        Outcome::Valid => (PartitionVerdict::Valid, None, None),
        Outcome::Invalid(_) => {
            // Search again, tracking the deepest point, for the counterexample.
            let never = AtomicBool::new(false);
            let tracking = Budget { stop: &never, ..*budget };
            let cx = match search(&mut model, &search_ops, &tracking, true).0 {
                Outcome::Invalid(Some(trace)) => Some(counterexample::build(&mut model, key, ops, &compiled, &trace)),
                _ => None,
            };
            (PartitionVerdict::Invalid, None, cx)
        }
        Outcome::Exhausted(Exhausted::Stopped) => (
            PartitionVerdict::Skipped,
            Some("not checked to the end: another partition was invalid".to_string()),
            None,
        ),
        Outcome::Exhausted(Exhausted::Time(t)) => (
            PartitionVerdict::Unknown,
            Some(format!(
                "time budget of {:.3} s ran out after {} search steps ({} memo entries){}",
                t.as_secs_f64(),
                stats.steps,
                stats.memo_entries,
                key.map_or(String::new(), |k| format!(" on key {k}"))
            )),
            None,
        ),
        Outcome::Exhausted(Exhausted::Memory { bytes, entries }) => (
            PartitionVerdict::Unknown,
            Some(format!(
                "memory cap of {} MB reached ({} MB in {entries} memo entries){}",
                budget.max_memo_bytes >> 20,
                bytes >> 20,
                key.map_or(String::new(), |k| format!(" on key {k}"))
            )),
            None,
        ),
    };
    let result = PartitionResult {
        key: key.map(str::to_string),
        ops: ops.len(),
        verdict,
        reason,
        elapsed_s: start.elapsed().as_secs_f64(),
        steps: stats.steps,
        memo_entries: stats.memo_entries,
        memo_bytes: stats.memo_bytes,
    };
    Ok((result, counterexample))
}
