//! Runs the partitions of one check on all cores. Worker threads take
//! partitions largest first and search each for a slice of steps; an
//! unfinished search goes to the back of the queue with a doubled slice, so a
//! hard partition cannot starve an easy invalid one, and the first invalid
//! partition stops the others (unless every partition is wanted).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::budget::{Budget, Exhausted};
use crate::check::{Group, PartitionResult, PartitionVerdict};
use crate::counterexample::{self, Counterexample};
use crate::error::CheckError;
use crate::models::Model;
use crate::ops::Operation;
use crate::search::{Outcome, Search, SearchOp, Stats};

/// Steps in a partition's first slice; each later slice doubles.
const FIRST_SLICE: u64 = 1 << 15;

pub(crate) type Done = (PartitionResult, Option<Counterexample>);

/// One partition's work: its search, built on first use.
struct Task<M: Model> {
    group: usize,
    search: Option<Box<Search<M>>>,
    slice: u64,
    elapsed_s: f64,
}

struct Queue<M: Model> {
    tasks: VecDeque<Task<M>>,
    in_flight: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Checks every group; results are in group order.
pub(crate) fn run_all<M: Model>(
    groups: &[Group<'_>],
    budget: &Budget<'_>,
    all: bool,
) -> Result<Vec<Done>, CheckError> {
    let tasks = (0..groups.len())
        .map(|group| Task {
            group,
            search: None,
            slice: FIRST_SLICE,
            elapsed_s: 0.0,
        })
        .collect();
    let queue = Mutex::new(Queue::<M> {
        tasks,
        in_flight: 0,
    });
    let wake = Condvar::new();
    let done: Mutex<Vec<Option<Done>>> = Mutex::new(vec![None; groups.len()]);
    let error: Mutex<Option<CheckError>> = Mutex::new(None);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(groups.len())
        .max(1);
    let worker = || {
        loop {
            let mut task = {
                let mut q = lock(&queue);
                loop {
                    if let Some(t) = q.tasks.pop_front() {
                        q.in_flight += 1;
                        break t;
                    }
                    if q.in_flight == 0 {
                        return;
                    }
                    q = wake.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            let (key, ops) = &groups[task.group];
            let finished = match step(&mut task, key.as_deref(), ops, budget) {
                Ok(Some(result)) => {
                    if result.0.verdict == PartitionVerdict::Invalid && !all {
                        budget.stop.store(true, Ordering::Relaxed);
                    }
                    lock(&done)[task.group] = Some(result);
                    true
                }
                Ok(None) => false,
                Err(e) => {
                    budget.stop.store(true, Ordering::Relaxed);
                    *lock(&error) = Some(e);
                    true
                }
            };
            let mut q = lock(&queue);
            q.in_flight -= 1;
            if !finished {
                q.tasks.push_back(task);
            }
            drop(q);
            wake.notify_all();
        }
    };
    if workers == 1 {
        worker();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(worker);
            }
        });
    }
    if let Some(e) = error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    Ok(done
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .enumerate()
        .map(|(i, d)| d.unwrap_or_else(|| skipped(groups[i].0.as_deref(), groups[i].1.len())))
        .collect())
}

type Compiled<M> = (M, Vec<SearchOp<<M as Model>::Op>>);

fn compile<M: Model>(ops: &[&Operation]) -> Result<Compiled<M>, CheckError> {
    let (model, compiled) = M::compile(ops)?;
    let search_ops = ops
        .iter()
        .zip(compiled)
        .map(|(o, op)| SearchOp {
            call: o.call,
            ret: (!o.is_info()).then_some(o.ret),
            op,
        })
        .collect();
    Ok((model, search_ops))
}

/// Runs one slice of a task; the partition's result when it is finished.
fn step<M: Model>(
    task: &mut Task<M>,
    key: Option<&str>,
    ops: &[&Operation],
    budget: &Budget<'_>,
) -> Result<Option<Done>, CheckError> {
    if task.search.is_none() {
        if budget.stop.load(Ordering::Relaxed) {
            return Ok(Some(skipped(key, ops.len())));
        }
        let (model, search_ops) = compile::<M>(ops)?;
        task.search = Some(Box::new(Search::new(model, search_ops, false)));
    }
    let start = Instant::now();
    let Some(search) = task.search.as_mut() else {
        return Ok(None);
    };
    let outcome = search.run(budget, task.slice);
    task.slice = task.slice.saturating_mul(2);
    task.elapsed_s += start.elapsed().as_secs_f64();
    let Some(outcome) = outcome else {
        return Ok(None);
    };
    let stats = search.stats();
    let counterexample = match outcome {
        Outcome::Invalid(_) => {
            // Search again, tracking the deepest point, for the counterexample.
            let (model, search_ops) = compile::<M>(ops)?;
            let never = AtomicBool::new(false);
            let tracking = Budget {
                stop: &never,
                ..*budget
            };
            let mut again = Search::new(model, search_ops, true);
            match again.run(&tracking, u64::MAX) {
                Some(Outcome::Invalid(Some(trace))) => {
                    let (mut model, search_ops) = again.into_parts();
                    let compiled: Vec<M::Op> = search_ops.iter().map(|o| o.op).collect();
                    Some(counterexample::build(
                        &mut model, key, ops, &compiled, &trace,
                    ))
                }
                _ => None,
            }
        }
        _ => None,
    };
    task.elapsed_s += start.elapsed().as_secs_f64();
    Ok(Some((
        result(key, ops.len(), &outcome, stats, task.elapsed_s, budget),
        counterexample,
    )))
}

fn result(
    key: Option<&str>,
    ops: usize,
    outcome: &Outcome,
    stats: Stats,
    elapsed_s: f64,
    budget: &Budget<'_>,
) -> PartitionResult {
    let on_key = key.map_or(String::new(), |k| format!(" on key {k}"));
    let (verdict, reason) = match outcome {
        Outcome::Valid => (PartitionVerdict::Valid, None),
        Outcome::Invalid(_) => (PartitionVerdict::Invalid, None),
        Outcome::Exhausted(Exhausted::Stopped) => (
            PartitionVerdict::Skipped,
            Some("not checked to the end: another partition was invalid".to_string()),
        ),
        Outcome::Exhausted(Exhausted::Time(t)) => (
            PartitionVerdict::Unknown,
            Some(format!(
                "time budget of {:.3} s ran out after {} search steps ({} memo entries){on_key}",
                t.as_secs_f64(),
                stats.steps,
                stats.memo_entries
            )),
        ),
        Outcome::Exhausted(Exhausted::Memory { bytes, entries }) => (
            PartitionVerdict::Unknown,
            Some(format!(
                "memory cap of {} MB reached ({} MB in {entries} memo entries){on_key}",
                budget.max_memo_bytes >> 20,
                bytes >> 20
            )),
        ),
    };
    PartitionResult {
        key: key.map(str::to_string),
        ops,
        verdict,
        reason,
        elapsed_s,
        steps: stats.steps,
        memo_entries: stats.memo_entries,
        memo_bytes: stats.memo_bytes,
    }
}

fn skipped(key: Option<&str>, ops: usize) -> Done {
    let outcome = Outcome::Exhausted(Exhausted::Stopped);
    let never = AtomicBool::new(false);
    let budget = Budget {
        deadline: None,
        timeout: None,
        max_memo_bytes: 0,
        stop: &never,
    };
    (
        result(key, ops, &outcome, Stats::default(), 0.0, &budget),
        None,
    )
}
