//! A closed-loop load generator against a running group, for `faultline
//! bench kv`: `clients` logical clients, each with one operation outstanding,
//! `read_pct` percent Gets and the rest Puts over `keys` keys with 16-byte
//! values, for a fixed duration. It reports throughput, latency quantiles
//! (all operations, and Gets and Puts apart: a read mode changes only the
//! Gets) and the CPU time the node processes used (`/proc/<pid>/stat` utime +
//! stime) per operation.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use faultline_raft::{NodeId, SplitMix64};
use nix::unistd::{SysconfVar, sysconf};
use serde::Serialize;

use super::error::HarnessError;
use faultline_kvnode::client::{ClientOptions, KvClient, Outcome, fresh_client_id};
use faultline_kvnode::kv::Op;

/// The shape of the load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub clients: usize,
    pub duration: Duration,
    pub keys: usize,
    pub value_len: usize,
    /// Percent of operations that are Gets (0..=100; the rest are Puts).
    pub read_pct: u8,
}

/// What a load run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub ops_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub cpu_ms_per_op: f64,
    pub nodes: usize,
    pub clients: usize,
    /// Operations completed with `ok`.
    pub ops: u64,
    /// Operations that ended `fail` or `info`.
    pub errors: u64,
    /// Percent of Gets in the load.
    pub read_pct: u8,
    /// Gets completed with `ok`, per second, and their latency quantiles.
    pub gets: KindReport,
    /// Puts completed with `ok`, per second, and their latency quantiles.
    pub puts: KindReport,
}

/// Throughput and latency of one kind of operation (Gets or Puts).
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindReport {
    pub ops: u64,
    pub ops_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl KindReport {
    fn of(mut latencies_us: Vec<u32>, elapsed_s: f64) -> KindReport {
        latencies_us.sort_unstable();
        KindReport {
            ops: latencies_us.len() as u64,
            ops_per_s: latencies_us.len() as f64 / elapsed_s,
            p50_ms: quantile_ms(&latencies_us, 0.50),
            p99_ms: quantile_ms(&latencies_us, 0.99),
        }
    }
}

/// What the clients of one run recorded: the latency of every `ok` Get and
/// Put, and how many operations did not end `ok`.
#[derive(Debug, Default)]
pub(crate) struct Samples {
    pub(crate) gets_us: Vec<u32>,
    pub(crate) puts_us: Vec<u32>,
    pub(crate) errors: u64,
}

impl Samples {
    /// Record one operation: a Get (`is_get`) or a Put, `ok` after
    /// `started` or not.
    pub(crate) fn record(&mut self, is_get: bool, ok: bool, started: Instant) {
        if !ok {
            self.errors += 1;
        } else if is_get {
            self.gets_us.push(micros_since(started));
        } else {
            self.puts_us.push(micros_since(started));
        }
    }

    /// Add another client's samples to these.
    pub(crate) fn merge(&mut self, other: Samples) {
        self.gets_us.extend(other.gets_us);
        self.puts_us.extend(other.puts_us);
        self.errors += other.errors;
    }
}

/// CPU time (user + system) of a process so far, from `/proc/<pid>/stat`.
pub fn process_cpu_time(pid: u32) -> Result<Duration, HarnessError> {
    let path = std::path::PathBuf::from(format!("/proc/{pid}/stat"));
    let stat = std::fs::read_to_string(&path).map_err(HarnessError::io("read", &path))?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let hz = sysconf(SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100)
        .max(1) as u64;
    let total = ticks(11) + ticks(12);
    Ok(Duration::from_micros(total * 1_000_000 / hz))
}

fn total_cpu(pids: &[u32]) -> Duration {
    pids.iter().filter_map(|&p| process_cpu_time(p).ok()).sum()
}

/// A client's seeded stream of operations (drawn from a [`SplitMix64`]).
pub(crate) struct OpStream(SplitMix64);

impl OpStream {
    pub(crate) fn new(seed: u64) -> OpStream {
        OpStream(SplitMix64::new(seed))
    }

    /// The next operation of a client: a key among `opts.keys`, and a Get
    /// (`None`, `opts.read_pct` percent of the time) or a Put of a
    /// `opts.value_len`-byte value.
    pub(crate) fn draw(&mut self, opts: &LoadOptions) -> (String, Option<String>) {
        let key = format!("k{}", self.0.below(opts.keys.max(1) as u64));
        if self.0.below(100) < u64::from(opts.read_pct) {
            (key, None)
        } else {
            let value = format!("{:0width$x}", self.0.next_u64(), width = opts.value_len);
            (
                key,
                Some(value[..opts.value_len.min(value.len())].to_string()),
            )
        }
    }
}

/// Microseconds since `started`, as a latency sample.
pub(crate) fn micros_since(started: Instant) -> u32 {
    started.elapsed().as_micros().min(u32::MAX as u128) as u32
}

async fn client_loop(
    mut client: KvClient,
    seed: u64,
    opts: LoadOptions,
    until: Instant,
) -> Samples {
    let mut rng = OpStream::new(seed);
    let mut samples = Samples::default();
    while Instant::now() < until {
        let op = match rng.draw(&opts) {
            (key, None) => Op::Get { key },
            (key, Some(value)) => Op::Put { key, value },
        };
        let is_get = matches!(op, Op::Get { .. });
        let started = Instant::now();
        let ok = matches!(client.execute(op).await, Outcome::Ok { .. });
        samples.record(is_get, ok, started);
    }
    samples
}

fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = ((sorted_us.len() as f64 - 1.0) * q).round() as usize;
    f64::from(sorted_us[i.min(sorted_us.len() - 1)]) / 1000.0
}

/// A load run under way: when it started, and the CPU time its processes
/// had used by then.
pub(crate) struct LoadRun<'a> {
    pids: &'a [u32],
    started: Instant,
    cpu_before: Duration,
}

impl<'a> LoadRun<'a> {
    /// Starts the clock on the processes `pids`.
    pub(crate) fn start(pids: &'a [u32]) -> LoadRun<'a> {
        let cpu_before = total_cpu(pids);
        LoadRun {
            pids,
            started: Instant::now(),
            cpu_before,
        }
    }

    /// When the clients stop issuing operations.
    pub(crate) fn until(&self, opts: &LoadOptions) -> Instant {
        self.started + opts.duration
    }

    /// The report of a run against `nodes` nodes whose clients recorded
    /// `samples`.
    pub(crate) fn report(&self, samples: Samples, nodes: usize, opts: &LoadOptions) -> LoadReport {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        let cpu = total_cpu(self.pids).saturating_sub(self.cpu_before);
        let Samples {
            gets_us,
            puts_us,
            errors,
        } = samples;
        let mut latencies_us: Vec<u32> = gets_us.iter().chain(&puts_us).copied().collect();
        latencies_us.sort_unstable();
        let ops = latencies_us.len() as u64;
        LoadReport {
            ops_per_s: ops as f64 / elapsed,
            p50_ms: quantile_ms(&latencies_us, 0.50),
            p99_ms: quantile_ms(&latencies_us, 0.99),
            cpu_ms_per_op: if ops == 0 {
                0.0
            } else {
                cpu.as_secs_f64() * 1000.0 / ops as f64
            },
            nodes,
            clients: opts.clients,
            ops,
            errors,
            read_pct: opts.read_pct,
            gets: KindReport::of(gets_us, elapsed),
            puts: KindReport::of(puts_us, elapsed),
        }
    }
}

/// Run the load against the nodes at `addrs` (whose processes are `pids`).
pub async fn run_load(
    addrs: &BTreeMap<NodeId, String>,
    pids: &[u32],
    opts: &LoadOptions,
) -> LoadReport {
    let client_opts = ClientOptions {
        op_deadline: Duration::from_secs(5),
        ..ClientOptions::default()
    };
    let run = LoadRun::start(pids);
    let until = run.until(opts);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..opts.clients {
        let client = KvClient::new(fresh_client_id(), addrs, client_opts.clone());
        tasks.spawn(client_loop(client, i as u64 + 1, opts.clone(), until));
    }
    let mut samples = Samples::default();
    while let Some(done) = tasks.join_next().await {
        if let Ok(s) = done {
            samples.merge(s);
        }
    }
    run.report(samples, addrs.len(), opts)
}

/// Start a loopback group of `nodes` under `run_dir`, wait for a leader, run
/// the load, stop every process and return the report. Builds its own tokio
/// runtime (call it from synchronous code).
pub fn bench_loopback(
    nodes: usize,
    run_dir: &std::path::Path,
    load: &LoadOptions,
) -> Result<LoadReport, HarnessError> {
    bench_loopback_with(nodes, run_dir, load, None, &[])
}

/// [`bench_loopback`], with the data directories on diskfs mounts when
/// `disk` is given (the servers' CPU counts with the nodes') and more kvnode
/// flags (e.g. `--read-mode lease`).
pub fn bench_loopback_with(
    nodes: usize,
    run_dir: &std::path::Path,
    load: &LoadOptions,
    disk: Option<crate::disk::DiskFaults>,
    extra_args: &[String],
) -> Result<LoadReport, HarnessError> {
    use super::{Harness, LoopbackHarness, LoopbackOptions};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(HarnessError::io("start a tokio runtime for", run_dir))?;
    let mut opts = LoopbackOptions::new(nodes, run_dir);
    opts.disk_faults = disk;
    opts.extra_args = extra_args.to_vec();
    let mut harness = LoopbackHarness::start(opts)?;
    let result = runtime.block_on(async {
        harness.wait_for_leader(Duration::from_secs(10)).await?;
        let pids: Vec<u32> = harness
            .node_ids()
            .into_iter()
            .flat_map(|id| [harness.pid(id), harness.disk_pid(id)])
            .flatten()
            .collect();
        Ok(run_load(&harness.addresses(), &pids, load).await)
    });
    harness.stop_all()?;
    result
}
