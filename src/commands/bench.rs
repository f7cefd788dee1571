//! `faultline bench checker`: generates a random linearizable cas-register
//! history of the requested shape in memory, checks it, and prints the
//! throughput (operations per second of checking) and peak memory.

use std::time::Instant;

use anyhow::{Result, bail};
use faultline_checker::generate::{Shape, cas_register_history};
use faultline_checker::{CheckOptions, ModelKind, Verdict, check};
use serde_json::json;

use super::{EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID};
use crate::cli::BenchCheckerArgs;

pub fn checker(args: &BenchCheckerArgs) -> Result<u8> {
    if !(0.0..=1.0).contains(&args.info_rate) {
        bail!(
            "--info-rate must be between 0 and 1, got {}",
            args.info_rate
        );
    }
    if args.ops == 0 || args.keys == 0 || args.procs == 0 {
        bail!("--ops, --keys and --procs must be at least 1");
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let shape = Shape {
        ops: args.ops,
        keys: args.keys,
        procs: args.procs,
        info_rate: args.info_rate,
        values: 5,
        seed,
    };
    let started = Instant::now();
    let history = cas_register_history(&shape);
    let generated_s = started.elapsed().as_secs_f64();
    let result = check(&history, ModelKind::CasRegister, &CheckOptions::default())?;
    let ops_per_s = args.ops as f64 / result.elapsed_s.max(1e-9);
    let peak_mb = peak_memory_kb().map(|kb| kb as f64 / 1024.0);
    if args.json {
        println!(
            "{}",
            json!({"ops": args.ops, "keys": args.keys, "procs": args.procs, "info_rate": args.info_rate,
                "seed": seed, "verdict": result.verdict, "generate_s": generated_s, "check_s": result.elapsed_s,
                "ops_per_s": ops_per_s, "peak_memory_mb": peak_mb, "partitions": result.partitions,
                "reason": result.reason})
        );
    } else {
        println!(
            "{} ops, {} keys, {} processes, info rate {} (seed {seed}): generated in {generated_s:.2} s",
            args.ops, args.keys, args.procs, args.info_rate
        );
        println!(
            "checked: {} in {:.3} s = {:.0} ops/s; peak memory {}",
            result.verdict.name(),
            result.elapsed_s,
            ops_per_s,
            peak_mb.map_or("unknown".to_string(), |m| format!("{m:.0} MB"))
        );
        if let Some(reason) = &result.reason {
            println!("reason: {reason}");
        }
    }
    Ok(match result.verdict {
        Verdict::Valid => EXIT_VALID,
        Verdict::Invalid => EXIT_INVALID,
        Verdict::Unknown => EXIT_UNKNOWN,
    })
}

/// Peak resident memory (VmHWM) of this process, in kB.
fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
