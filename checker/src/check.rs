//! `check`: pairs a history into operations, partitions them by key
//! (P-compositionality: a history is linearizable iff every key's
//! sub-history is), checks partitions in parallel on all cores (largest
//! first), stops at the first invalid one unless asked for all, and folds
//! the results into one verdict. Never valid by assumption: a budget that
//! runs out gives Unknown with the reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::budget::Budget;
use crate::counterexample::Counterexample;
use crate::error::CheckError;
use crate::history::History;
use crate::models::{CasRegister, Joint, Kv, ModelKind, Register};
use crate::ops::{Operation, pair};
use crate::schedule;

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
        CheckOptions {
            timeout: None,
            max_memory: 4 << 30,
            all: false,
            no_partition: false,
        }
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
pub fn check(
    history: &History,
    model: ModelKind,
    opts: &CheckOptions,
) -> Result<CheckResult, CheckError> {
    let start = Instant::now();
    let paired = pair(history)?;
    let ops = &paired.ops;
    let groups: Vec<Group<'_>> = if opts.no_partition {
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
    let runs = match (model, joint) {
        (ModelKind::Register, false) => schedule::run_all::<Register>(&groups, &budget, opts.all),
        (ModelKind::CasRegister, false) => {
            schedule::run_all::<CasRegister>(&groups, &budget, opts.all)
        }
        (ModelKind::Kv, false) => schedule::run_all::<Kv>(&groups, &budget, opts.all),
        (ModelKind::Register, true) => {
            schedule::run_all::<Joint<Register>>(&groups, &budget, opts.all)
        }
        (ModelKind::CasRegister, true) => {
            schedule::run_all::<Joint<CasRegister>>(&groups, &budget, opts.all)
        }
        (ModelKind::Kv, true) => schedule::run_all::<Joint<Kv>>(&groups, &budget, opts.all),
    }?;
    let mut results = Vec::with_capacity(runs.len());
    let mut counterexample = None;
    for (r, cx) in runs {
        if counterexample.is_none() {
            counterexample = cx;
        }
        results.push(r);
    }
    let verdict = if results
        .iter()
        .any(|r| r.verdict == PartitionVerdict::Invalid)
    {
        Verdict::Invalid
    } else if results.iter().all(|r| r.verdict == PartitionVerdict::Valid) {
        Verdict::Valid
    } else {
        Verdict::Unknown
    };
    let reason = match verdict {
        Verdict::Unknown => {
            let unknown: Vec<&PartitionResult> = results
                .iter()
                .filter(|r| r.verdict != PartitionVerdict::Valid)
                .collect();
            let first = unknown
                .first()
                .and_then(|r| r.reason.clone())
                .unwrap_or_default();
            Some(if unknown.len() > 1 {
                format!(
                    "{first} ({} of {} partitions undecided)",
                    unknown.len(),
                    results.len()
                )
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
pub(crate) type Group<'a> = (Option<Arc<str>>, Vec<&'a Operation>);

fn partition(ops: &[Operation]) -> Vec<Group<'_>> {
    let mut index: HashMap<Option<&str>, usize> = HashMap::new();
    let mut groups: Vec<Group<'_>> = Vec::new();
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
