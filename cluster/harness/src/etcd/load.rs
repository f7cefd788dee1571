//! `faultline bench kv --db etcd`: the same closed-loop load as the kvnode
//! benchmark (see [`crate::LoadOptions`]) against an etcd cluster
//! on loopback, one blocking client thread per logical client, clients
//! spread over the members, linearizable gets.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::client::EtcdClient;
use super::cluster::{EtcdCluster, EtcdOptions};
use super::error::EtcdError;
use crate::{LoadOptions, LoadReport, LoadRun, OpStream, Samples};

fn client_loop(client: EtcdClient, seed: u64, opts: &LoadOptions, until: Instant) -> Samples {
    let mut rng = OpStream::new(seed);
    let mut samples = Samples::default();
    while Instant::now() < until {
        let (key, put) = rng.draw(opts);
        let started = Instant::now();
        let (is_get, ok) = match put {
            None => (true, client.get(&key, false).is_ok()),
            Some(value) => (false, client.put(&key, &value).is_ok()),
        };
        samples.record(is_get, ok, started);
    }
    samples
}

/// Run the load against the members at `urls` (whose processes are `pids`).
pub fn run_etcd_load(
    urls: &BTreeMap<String, String>,
    pids: &[u32],
    opts: &LoadOptions,
) -> LoadReport {
    let urls: Vec<&String> = urls.values().collect();
    let run = LoadRun::start(pids);
    let until = run.until(opts);
    let results: Vec<Samples> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..opts.clients)
            .map(|i| {
                let client = EtcdClient::new(urls[i % urls.len().max(1)], Duration::from_secs(5));
                s.spawn(move || client_loop(client, i as u64 + 1, opts, until))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut samples = Samples::default();
    for s in results {
        samples.merge(s);
    }
    run.report(samples, urls.len(), opts)
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
