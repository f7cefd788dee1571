//! `faultline bench kv --db etcd`: the same closed-loop load as the kvnode
//! benchmark (see [`crate::harness::LoadOptions`]) against an etcd cluster
//! on loopback, one blocking client thread per logical client, clients
//! spread over the members, linearizable gets.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::client::EtcdClient;
use super::cluster::{EtcdCluster, EtcdOptions};
use super::error::EtcdError;
use crate::harness::{LoadOptions, LoadReport, process_cpu_time};

fn cpu(pids: &[u32]) -> Duration {
    pids.iter().filter_map(|&p| process_cpu_time(p).ok()).sum()
}

/// SplitMix64, as the kvnode load uses.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn client_loop(
    client: EtcdClient,
    seed: u64,
    opts: &LoadOptions,
    until: Instant,
) -> (Vec<u32>, u64) {
    let mut rng = seed;
    let (mut latencies, mut errors) = (Vec::new(), 0);
    while Instant::now() < until {
        let key = format!("k{}", next(&mut rng) % opts.keys.max(1) as u64);
        let started = Instant::now();
        let ok = if next(&mut rng).is_multiple_of(2) {
            client.get(&key, false).is_ok()
        } else {
            let value = format!("{:0width$x}", next(&mut rng), width = opts.value_len);
            client
                .put(&key, &value[..opts.value_len.min(value.len())])
                .is_ok()
        };
        if ok {
            latencies.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        } else {
            errors += 1;
        }
    }
    (latencies, errors)
}

fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = ((sorted_us.len() as f64 - 1.0) * q).round() as usize;
    f64::from(sorted_us[i.min(sorted_us.len() - 1)]) / 1000.0
}

/// Run the load against the members at `urls` (whose processes are `pids`).
pub fn run_etcd_load(
    urls: &BTreeMap<String, String>,
    pids: &[u32],
    opts: &LoadOptions,
) -> LoadReport {
    let urls: Vec<&String> = urls.values().collect();
    let cpu_before = cpu(pids);
    let started = Instant::now();
    let until = started + opts.duration;
    let results: Vec<(Vec<u32>, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..opts.clients)
            .map(|i| {
                let client = EtcdClient::new(urls[i % urls.len().max(1)], Duration::from_secs(5));
                s.spawn(move || client_loop(client, i as u64 + 1, opts, until))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    let cpu = cpu(pids).saturating_sub(cpu_before);
    let mut latencies: Vec<u32> = results
        .iter()
        .flat_map(|(l, _)| l.iter().copied())
        .collect();
    let errors = results.iter().map(|(_, e)| e).sum();
    latencies.sort_unstable();
    let ops = latencies.len() as u64;
    LoadReport {
        ops_per_s: ops as f64 / elapsed,
        p50_ms: quantile_ms(&latencies, 0.50),
        p99_ms: quantile_ms(&latencies, 0.99),
        cpu_ms_per_op: if ops == 0 {
            0.0
        } else {
            cpu.as_secs_f64() * 1000.0 / ops as f64
        },
        nodes: urls.len(),
        clients: opts.clients,
        ops,
        errors,
    }
}

/// Start a loopback etcd cluster of `members` under `run_dir`, wait for a
/// leader, run the load, stop every member and return the report.
pub fn bench_etcd(
    members: usize,
    run_dir: &std::path::Path,
    load: &LoadOptions,
) -> Result<LoadReport, EtcdError> {
    let mut cluster = EtcdCluster::start(EtcdOptions::new(members, run_dir))?;
    let result = cluster.wait_for_leader(Duration::from_secs(20)).map(|_| {
        let pids: Vec<u32> = cluster.pids().into_iter().map(|(_, p)| p).collect();
        run_etcd_load(&cluster.client_urls(), &pids, load)
    });
    cluster.stop_all();
    result
}
