//! `faultline run`: the Jepsen-style test of DESIGN.md, wired to the runner
//! library: the flags become `RunOptions`, the runner resolves them into a
//! plan and runs `--test-count` tests one after the other; this module
//! prints a one-screen summary of each and, for several, a summary line.
//! The exit code is the worst: 0 valid, 1 invalid, 2 unknown, interrupted
//! or error. [`signals`] says what Ctrl-C / SIGTERM stops.

mod signals;

use anyhow::Result;
use faultline_checker::Verdict;
use faultline_runner::{RunOptions, TestOutcome, plan::plan, run_test};

use super::{EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID};
use crate::cli::RunArgs;

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

/// The runner's options from the command line.
pub fn options(args: &RunArgs) -> RunOptions {
    RunOptions {
        db: args.db.clone(),
        workload: args.workload.name().to_string(),
        nemesis: args.nemesis.clone(),
        time_limit: args.time_limit,
        concurrency: args.concurrency,
        groups: args.groups,
        replicas: args.replicas,
        bug: args.bug.clone(),
        seed: args.seed,
        test_count: args.test_count,
        store: args.store.clone(),
        rate: args.rate,
        keys: args.keys,
        ops_per_key: args.ops_per_key,
        nemesis_interval: args.nemesis_interval,
        name: args.name.clone(),
        check_timeout: args.check_timeout,
        no_netns: args.no_netns,
        etcd_serializable_reads: args.etcd_serializable_reads,
        attempt_timeout_ms: args.attempt_timeout_ms,
        system_file: args.system.clone(),
        read_mode: args.read_mode.clone(),
        clock_drift: args.clock_drift,
        hosts: args.hosts.clone(),
    }
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
        Verdict::Unknown => {
            let why: Vec<&str> = r
                .checkers
                .values()
                .filter(|c| c.verdict == Verdict::Unknown)
                .filter_map(|c| c.message.as_deref())
                .collect();
            format!(
                "UNKNOWN ({})",
                if why.is_empty() {
                    "undecided".to_string()
                } else {
                    why.join("; ")
                }
            )
        }
    };
    println!("  verdict:    {verdict}");
    for (name, c) in &r.checkers {
        println!("    {name:<13} {:<8} {}", c.verdict.name(), c.summary);
    }
    if let Some(c) = r.checkers.values().find(|c| c.verdict == Verdict::Invalid) {
        println!(
            "  anomaly:    {}",
            c.message.as_deref().unwrap_or("see the counterexample")
        );
    }
    if outcome.interrupted {
        println!("  INTERRUPTED: the run was stopped early; partial results");
    }
    println!("  run folder: {}  (index.html)", outcome.run_dir.display());
}

pub fn run(args: &RunArgs) -> Result<u8> {
    let plan = plan(&options(args))?;
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
        let outcome = run_test(&plan.nth(i), &*interrupt)?;
        print_summary(&outcome);
        code = code.max(exit_code(&outcome));
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
