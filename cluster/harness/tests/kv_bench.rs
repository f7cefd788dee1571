//! The `faultline bench kv` load as an ignored test, for measuring without
//! the CLI: `cargo test -p faultline-harness --release --test kv_bench --
//! --ignored --nocapture` (KV_BENCH_SECS, KV_BENCH_NODES, KV_BENCH_CLIENTS).

use std::time::Duration;

use faultline_harness::{LoadOptions, bench_loopback};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
fn closed_loop_half_gets_half_puts() {
    let dir = tempfile::tempdir().unwrap();
    let load = LoadOptions {
        clients: env("KV_BENCH_CLIENTS", 32) as usize,
        duration: Duration::from_secs(env("KV_BENCH_SECS", 5)),
        keys: 1000,
        value_len: 16,
        read_pct: 50,
    };
    let nodes = (env("KV_BENCH_NODES", 3) as usize).max(1);
    let report = bench_loopback(nodes, dir.path(), &load).unwrap();
    println!("{}", serde_json::to_string(&report).unwrap());
    assert!(report.ops > 0, "{report:?}");
    assert_eq!(report.ops, report.gets.ops + report.puts.ops, "{report:?}");
}
