//! `faultline run`: the Jepsen-style test of DESIGN.md. Resolves the options
//! ([`plan`]), runs `--test-count` tests one after the other ([`one`]), prints
//! a one-screen summary of each and, for several, a summary line; the exit
//! code is the worst: 0 valid, 1 invalid, 2 unknown, interrupted or error.
//!
//! The pieces: [`kvdb`] (the kvnode cluster behind the workloads' Db and
//! Client protocols), [`sharddb`] (the sharded stack, `--groups N`, behind
//! the same protocols plus shard control), [`kv_ops`] (workload operations
//! as KV requests and stored strings, and answers as outcomes), [`markers`]
//! (per-run pid files for `faultline clean`), [`progress`], [`signals`]
//! (what Ctrl-C / SIGTERM stops), [`store`] (run folder and test.json),
//! [`results`] (check and results.json). [`check_limits`] (the option checks
//! `faultline nightly` shares) is from [`plan`].

mod etcddb;
mod kv_ops;
mod kvdb;
pub mod markers;
mod one;
mod plan;
mod progress;
mod results;
mod sharddb;
mod signals;
mod store;

use anyhow::Result;
use faultline_checker::Verdict;

use super::{EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID};
use crate::cli::RunArgs;
use one::TestOutcome;
pub(super) use plan::check_limits;

fn exit_code(outcome: &TestOutcome) -> u8 {
    if outcome.interrupted {
        return EXIT_UNKNOWN;
    }
    match outcome.verdict() {
        Verdict::Valid => EXIT_VALID,
        Verdict::Invalid => EXIT_INVALID,
        Verdict::Unknown => EXIT_UNKNOWN,
    }
}

/// Worse of two exit codes: unknown/error (2) > invalid (1) > valid (0).
fn worst(a: u8, b: u8) -> u8 {
    a.max(b)
}

fn print_summary(outcome: &TestOutcome) {
    println!();
    let Some(r) = &outcome.results else {
        println!(
            "  verdict:    UNKNOWN ({})",
            outcome.error.as_deref().unwrap_or("no result")
        );
        println!("  run folder: {}", outcome.run_dir.display());
        return;
    };
    let check = &r.checkers.linearizable;
    let p = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1} ms"));
    println!(
        "  ops:        ok {}  fail {}  info {}   ({:.1} ok/s, latency p50 {}, p99 {})",
        r.ops.ok,
        r.ops.fail,
        r.ops.info,
        r.throughput,
        p(r.latency_ms.p50),
        p(r.latency_ms.p99)
    );
    let nemesis: Vec<String> = r.nemesis.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "  nemesis:    {}",
        if nemesis.is_empty() {
            "none".to_string()
        } else {
            nemesis.join(", ")
        }
    );
    if !r.nemesis_errors.is_empty() {
        println!(
            "              {} action(s) failed, first: {}",
            r.nemesis_errors.len(),
            r.nemesis_errors[0]
        );
    }
    println!(
        "  final:      {} key(s), {} unread, recovered: {}",
        r.final_reads.keys,
        r.final_reads.unread.len(),
        r.final_reads.recovered
    );
    let verdict = match r.verdict {
        Verdict::Valid => "VALID".to_string(),
        Verdict::Invalid => "INVALID".to_string(),
        Verdict::Unknown => format!(
            "UNKNOWN ({})",
            check.reason.as_deref().unwrap_or("undecided")
        ),
    };
    println!(
        "  verdict:    {verdict}  (linearizability, {} model, {} ops in {} key partitions, {:.2} s)",
        check.model.name(),
        check.ops,
        check.partitions,
        check.elapsed_s
    );
    if let Some(cx) = &check.counterexample {
        println!(
            "  anomaly:    key {}: {}",
            cx.key.as_deref().unwrap_or("-"),
            cx.message
        );
    }
    if outcome.interrupted {
        println!("  INTERRUPTED: the run was stopped early; partial results");
    }
    println!("  run folder: {}  (index.html)", outcome.run_dir.display());
}

pub fn run(args: &RunArgs) -> Result<u8> {
    let plan = plan::plan(args)?;
    let interrupt = signals::Interrupt::install()?;
    let mut code = EXIT_VALID;
    let mut outcomes = Vec::new();
    for i in 0..plan.test_count {
        if interrupt.interrupted() {
            break;
        }
        if plan.test_count > 1 {
            println!("\n=== test {} of {} ===", i + 1, plan.test_count);
        }
        let outcome = one::run_one(&plan.nth(i), &interrupt)?;
        print_summary(&outcome);
        code = worst(code, exit_code(&outcome));
        outcomes.push(outcome);
    }
    if plan.test_count > 1 {
        let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict() == v).count();
        println!(
            "\n{} test(s): {} valid, {} invalid, {} unknown{}",
            outcomes.len(),
            count(Verdict::Valid),
            count(Verdict::Invalid),
            count(Verdict::Unknown),
            if interrupt.interrupted() {
                " (interrupted)"
            } else {
                ""
            }
        );
        for o in &outcomes {
            println!(
                "  seed {:<20} {:<8} {}",
                o.seed,
                o.verdict().name(),
                o.run_dir.display()
            );
        }
    }
    if interrupt.interrupted() {
        code = EXIT_UNKNOWN;
    }
    Ok(code)
}
