//! `faultline bench kv`: a closed-loop load (`--reads` percent gets, default
//! half, the rest puts, over 1,000 keys, 16-byte values, fsync on) against a loopback group of kvnode
//! processes (`--db faultline`) or etcd members (`--db etcd`, linearizable
//! gets through the JSON gateway) started for the run and stopped after it.
//! Prints ops/s, p50 and p99 latency (all operations, then gets and puts
//! apart) and the nodes' CPU milliseconds per operation; `--json` prints the same object for both. `--diskfs` puts each
//! kvnode's data directory on a diskfs mount (the cost of the power-loss
//! layer); the nodes' CPU then includes the diskfs servers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use faultline_harness::disk::DiskFaults;
use faultline_harness::etcd::bench_etcd;
use faultline_harness::{LoadOptions, bench_loopback_with};

use super::EXIT_VALID;
use crate::cli::{BenchDb, BenchKvArgs};

pub fn run(args: &BenchKvArgs) -> Result<u8> {
    if args.nodes == 0 || args.clients == 0 || args.duration == 0 {
        bail!("--nodes, --clients and --duration must be at least 1");
    }
    if args.diskfs && matches!(args.db, BenchDb::Etcd) {
        bail!("--diskfs is for --db faultline (etcd members do not run on diskfs yet)");
    }
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let run_dir =
        std::env::temp_dir().join(format!("faultline-bench-kv-{}-{stamp}", std::process::id()));
    let load = LoadOptions {
        clients: args.clients,
        duration: Duration::from_secs(args.duration),
        keys: 1000,
        value_len: 16,
        read_pct: args.reads,
    };
    let result = match args.db {
        BenchDb::Faultline => {
            let disk = args.diskfs.then_some(DiskFaults {
                seed: 1,
                binary: None,
            });
            let extra = ["--read-mode".to_string(), args.read_mode.clone()];
            bench_loopback_with(args.nodes, &run_dir, &load, disk, &extra)
                .map_err(anyhow::Error::from)
        }
        BenchDb::Etcd => bench_etcd(args.nodes, &run_dir, &load).map_err(anyhow::Error::from),
    };
    let _ = std::fs::remove_dir_all(&run_dir);
    let report = result.context("bench kv")?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} nodes, {} clients, {} s, {}% gets: {:.0} ops/s, p50 {:.2} ms, p99 {:.2} ms, {:.3} CPU-ms/op ({} ok, {} failed or unknown)",
            report.nodes,
            report.clients,
            args.duration,
            report.read_pct,
            report.ops_per_s,
            report.p50_ms,
            report.p99_ms,
            report.cpu_ms_per_op,
            report.ops,
            report.errors
        );
        for (kind, k) in [("gets", &report.gets), ("puts", &report.puts)] {
            println!(
                "  {kind}: {:.0} ops/s, p50 {:.2} ms, p99 {:.2} ms ({} ok)",
                k.ops_per_s, k.p50_ms, k.p99_ms, k.ops
            );
        }
    }
    Ok(EXIT_VALID)
}
