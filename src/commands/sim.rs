//! `faultline sim raft`: runs the deterministic simulator of the Raft core
//! over many seeds on all cores and reports violations (exit 1) with the
//! seed, the property and the trace of the last events.

use std::time::Instant;

use anyhow::Result;
use faultline_raft::{BugSet, DEFAULT_MAX_CLOCK_DRIFT_PCT, RaftBug, ReadMode};
use faultline_sim::{SimOptions, run_seeds};
use serde_json::json;

use crate::cli::SimArgs;

use super::{EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID};

pub fn run(args: &SimArgs) -> Result<u8> {
    let mut bugs = BugSet::new();
    if let Some(name) = &args.bug {
        for part in name.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.parse::<RaftBug>() {
                Ok(bug) => {
                    bugs.insert(bug);
                }
                Err(e) => {
                    eprintln!("faultline sim: {e}");
                    return Ok(EXIT_UNKNOWN);
                }
            }
        }
    }
    let read_mode = match args.read_mode.parse::<ReadMode>() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("faultline sim: {e}");
            return Ok(EXIT_UNKNOWN);
        }
    };
    let clock_drift_pct = args.clock_drift.unwrap_or(match read_mode {
        ReadMode::Lease => DEFAULT_MAX_CLOCK_DRIFT_PCT,
        ReadMode::ReadIndex => 0,
    });
    let opts = SimOptions {
        servers: args.servers,
        steps: args.steps,
        bugs,
        read_mode,
        clock_drift_pct,
        conf_changes: args.conf_changes,
        spares: args.spares.unwrap_or(if args.conf_changes { 1 } else { 0 }),
    };
    if let Err(e) = opts.validate() {
        eprintln!("faultline sim: {e}");
        return Ok(EXIT_UNKNOWN);
    }
    if args.seeds == 0 {
        eprintln!("faultline sim: --seeds must be positive");
        return Ok(EXIT_UNKNOWN);
    }
    let first = args.seed.unwrap_or_else(random_seed);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if !args.json {
        println!(
            "sim raft: seeds {first}..{} ({} seeds), {} servers, {} steps each, {} threads, reads {}, clock drift {} %{}{}",
            first.wrapping_add(args.seeds - 1),
            args.seeds,
            opts.servers,
            opts.steps,
            threads,
            opts.read_mode,
            opts.clock_drift_pct,
            if opts.conf_changes {
                format!(", membership changes with {} spare(s)", opts.spares)
            } else {
                String::new()
            },
            args.bug
                .as_deref()
                .map(|b| format!(", bug {b}"))
                .unwrap_or_default()
        );
    }
    let started = Instant::now();
    let summary = match run_seeds(&opts, first, args.seeds, threads, false) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("faultline sim: {e}");
            return Ok(EXIT_UNKNOWN);
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let per_s = if elapsed > 0.0 {
        summary.seeds as f64 / elapsed
    } else {
        0.0
    };

    if args.json {
        let first_violation = summary.first_violation.as_ref().map(|f| {
            json!({
                "seed": f.seed,
                "property": f.violation.property.name(),
                "detail": f.violation.detail,
                "time": f.violation.time,
                "step": f.violation.step,
                "trace": f.trace,
            })
        });
        let mut out = json!({
            "seeds": summary.seeds,
            "first_seed": first,
            "servers": opts.servers,
            "steps_per_seed": opts.steps,
            "read_mode": opts.read_mode.name(),
            "clock_drift_pct": opts.clock_drift_pct,
            "violations": summary.violations,
            "steps": summary.steps,
            "commits": summary.commits,
            "elapsed_s": elapsed,
            "seeds_per_s": per_s,
            "threads": threads,
            "first_violation": first_violation,
        });
        if opts.conf_changes {
            // Only then: runs without membership changes print as before.
            out["conf_changes"] = json!(true);
            out["spares"] = json!(opts.spares);
        }
        println!("{out}");
    } else {
        println!(
            "{} seeds, {} steps, {} commits in {elapsed:.2} s ({per_s:.1} seeds/s): {} violating seed(s)",
            summary.seeds, summary.steps, summary.commits, summary.violations
        );
        if let Some(f) = &summary.first_violation {
            println!(
                "\nfirst violation: seed {} — {} at t={} (step {})\n  {}\n\nlast events:",
                f.seed,
                f.violation.property,
                f.violation.time,
                f.violation.step,
                f.violation.detail
            );
            for line in &f.trace {
                println!("  {line}");
            }
            println!(
                "\nreplay: faultline sim raft --seeds 1 --seed {} --servers {} --steps {} --read-mode {} --clock-drift {}{}{}",
                f.seed,
                opts.servers,
                opts.steps,
                opts.read_mode,
                opts.clock_drift_pct,
                if opts.conf_changes {
                    format!(" --conf-changes --spares {}", opts.spares)
                } else {
                    String::new()
                },
                args.bug
                    .as_deref()
                    .map(|b| format!(" --bug {b}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(if summary.violations > 0 {
        EXIT_INVALID
    } else {
        EXIT_VALID
    })
}

/// A first seed when none was given: from the clock (printed, so the run can be repeated).
fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}
