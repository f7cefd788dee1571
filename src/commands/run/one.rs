//! One test, start to end: run folder and marker, cluster start, leader
//! wait (sharded: every group joined and every shard served), clients +
//! nemesis until the time limit (or a signal), final heal, recovery (a
//! leader, sharded: every group at the latest configuration serving every
//! shard; and an applied write), final reads, node stop, check,
//! results.json, test.json, the report and the store index.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use faultline_checker::{CheckResult, Verdict};
use faultline_harness::{AnyHarness, LoopbackHarness, LoopbackOptions, NetnsHarness, NetnsOptions};
use faultline_kvnode::client::ClientOptions;
use faultline_nemesis::recovery::wait_for_leader;
use faultline_nemesis::{Nemesis, Schedule, ScheduleOptions, StopFlag, parse_packages_for};
use faultline_workloads::rate::RateLimiter;
use faultline_workloads::runner::Workers;
use faultline_workloads::{HistoryWriter, Op, Stats, WorkloadKind};
use serde_json::json;
use tokio::sync::watch;

use super::etcddb::{SutClients, SutDb, start_db};
use super::kvdb::KvClients;
use super::markers::Marker;
use super::plan::Plan;
use super::progress::Progress;
use super::results::{FinalReads, Results, check_history};
use super::signals::Interrupt;
use super::store::{TestRecord, create_run_dir, versions};

/// How long the cluster may take to elect its first leader.
const STARTUP_LEADER: Duration = Duration::from_secs(20);
/// How long the shard groups may take to join and serve every shard.
const STARTUP_SHARDS: Duration = Duration::from_secs(60);
/// How long, after the final heal, recovery and the final reads may take.
const RECOVERY: Duration = Duration::from_secs(30);

/// What one test ended with.
pub struct TestOutcome {
    pub run_dir: PathBuf,
    pub seed: u64,
    pub interrupted: bool,
    pub results: Option<Results>,
    /// Why there are no results.
    pub error: Option<String>,
}

impl TestOutcome {
    pub fn verdict(&self) -> Verdict {
        self.results
            .as_ref()
            .map_or(Verdict::Unknown, |r| r.verdict)
    }
}

pub fn run_one(plan: &Plan, interrupt: &Interrupt) -> Result<TestOutcome> {
    let (run_dir, started) = create_run_dir(&plan.store, &plan.name)?;
    let run_id = format!(
        "{}-{}-{}",
        plan.name,
        started.format("%Y%m%dT%H%M%S"),
        std::process::id()
    );
    let packages = parse_packages_for(&plan.nemesis.join(","), plan.sharded())?;
    let schedule = Schedule::new(&ScheduleOptions {
        seed: plan.seed,
        packages: packages.len(),
        interval: Duration::from_secs_f64(plan.nemesis_interval_s),
        time_limit: plan.time_limit(),
    })?;
    let nemesis = Nemesis::new(packages, schedule, plan.seed);
    let mut record = TestRecord {
        name: plan.name.clone(),
        seed: plan.seed,
        run_id: run_id.clone(),
        mode: if plan.netns { "netns" } else { "loopback" },
        netns_run: None,
        options: plan.clone(),
        nemesis_packages: nemesis
            .packages()
            .into_iter()
            .map(|(name, colour)| json!({"name": name, "colour": colour}))
            .collect(),
        versions: versions(),
        start: started.to_rfc3339(),
        end: None,
        interrupted: false,
        error: None,
        replay: replay_command(plan),
    };
    record.write(&run_dir)?;
    let shape = if plan.sharded() {
        format!(
            "controller group of {} + {} shard groups x {} replicas",
            super::sharddb::CTRLER_REPLICAS,
            plan.groups,
            plan.replicas
        )
    } else {
        format!("{} replicas", plan.replicas)
    };
    println!(
        "faultline run: {} (seed {}, {} s, {shape}) -> {}",
        plan.name,
        plan.seed,
        plan.time_limit_s,
        run_dir.display()
    );
    let outcome = execute(plan, interrupt, &run_dir, &run_id, nemesis, &mut record);
    record.end = Some(Utc::now().to_rfc3339());
    record.interrupted = interrupt.interrupted();
    let outcome = match outcome {
        Ok(results) => {
            results.write(&run_dir)?;
            TestOutcome {
                run_dir: run_dir.clone(),
                seed: plan.seed,
                interrupted: record.interrupted,
                results: Some(results),
                error: None,
            }
        }
        Err(e) => {
            record.error = Some(format!("{e:#}"));
            TestOutcome {
                run_dir: run_dir.clone(),
                seed: plan.seed,
                interrupted: record.interrupted,
                results: None,
                error: Some(format!("{e:#}")),
            }
        }
    };
    record.write(&run_dir)?;
    if outcome.results.is_some() {
        match faultline_reports::write_run_and_store_reports(&run_dir) {
            Ok(_) => {}
            Err(e) => eprintln!("faultline: warning: the report could not be written: {e}"),
        }
    }
    Ok(outcome)
}

fn replay_command(plan: &Plan) -> String {
    let mut cmd = format!(
        "faultline run --workload {} --nemesis {} --time-limit {} --concurrency {} --replicas {} --nemesis-interval {} --keys {} --ops-per-key {} --seed {}",
        plan.workload,
        if plan.nemesis.is_empty() {
            "none".to_string()
        } else {
            plan.nemesis.join(",")
        },
        plan.time_limit_s,
        plan.concurrency,
        plan.replicas,
        plan.nemesis_interval_s,
        plan.keys,
        plan.ops_per_key,
        plan.seed
    );
    if plan.sharded() {
        cmd += &format!(" --groups {}", plan.groups);
    }
    if let Some(rate) = plan.rate {
        cmd += &format!(" --rate {rate}");
    }
    if let Some(bug) = &plan.bug {
        cmd += &format!(" --bug {bug}");
    }
    cmd += &format!(" --attempt-timeout-ms {}", plan.attempt_timeout_ms);
    if plan.no_netns {
        cmd += " --no-netns";
    }
    if plan.db == "etcd" {
        cmd += " --db etcd";
    }
    if plan.etcd_serializable_reads {
        cmd += " --etcd-serializable-reads";
    }
    cmd
}

/// Start, run, heal, stop and check; the nodes are stopped however it ends.
fn execute(
    plan: &Plan,
    interrupt: &Interrupt,
    run_dir: &std::path::Path,
    run_id: &str,
    mut nemesis: Nemesis,
    record: &mut TestRecord,
) -> Result<Results> {
    let marker = Marker::create(run_id, run_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let (db, net) = start_db(
        plan,
        run_dir,
        marker,
        || start_harness(plan, run_dir),
        runtime.handle().clone(),
    )?;
    if let Some(net) = net {
        record.netns_run = Some(net.run_id().to_string());
        record.write(run_dir)?;
        let ids = net.node_ids();
        println!(
            "  nodes in network namespaces {} .. {}",
            net.run_id().namespace(ids.first().copied().unwrap_or(1)),
            net.run_id().namespace(ids.last().copied().unwrap_or(1))
        );
    }
    let db = Arc::new(db);

    let stop = StopFlag::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let startup = StopFlag::new();
    interrupt.arm(startup.clone(), stop_tx.clone());
    if wait_for_leader(&*db, STARTUP_LEADER, &startup).is_none() && !interrupt.interrupted() {
        return Err(anyhow!(
            "no leader elected within {STARTUP_LEADER:?}; see {}/nodes/*/node.log",
            run_dir.display()
        ));
    }
    if let SutDb::Shard(s) = &*db
        && !interrupt.interrupted()
    {
        let num = s.join_all(STARTUP_SHARDS, &startup).map_err(|e| {
            anyhow!(
                "joining the shard groups: {e}; see {}/nodes/*/node.log",
                run_dir.display()
            )
        })?;
        println!(
            "  shard groups {:?} joined: configuration {num}, every shard served",
            s.gids()
        );
    }
    interrupt.arm(stop.clone(), stop_tx.clone());

    let history = Arc::new(HistoryWriter::create(&run_dir.join("history.jsonl"))?);
    let stats = Arc::new(Stats::default());
    let int_values = plan.workload_kind == WorkloadKind::Register;
    let workers = Workers {
        factory: Arc::new(match &*db {
            SutDb::Etcd(e) => SutClients::Etcd(e.clients(plan.etcd_serializable_reads, int_values)),
            SutDb::Shard(s) => SutClients::Shard(s.clients(
                ClientOptions {
                    attempt_timeout: Duration::from_millis(plan.attempt_timeout_ms),
                    ..ClientOptions::default()
                },
                int_values,
            )),
            SutDb::Kv(db) => SutClients::Kv(KvClients {
                addresses: db.addresses(),
                options: ClientOptions {
                    retry_new_seq: plan.client_retry_new_seq,
                    attempt_timeout: Duration::from_millis(plan.attempt_timeout_ms),
                    ..ClientOptions::default()
                },
                int_values,
            }),
        }),
        generator: Arc::new(Mutex::new(plan.workload_options().build()?)),
        history: history.clone(),
        stats: stats.clone(),
        rate: plan.rate.map(RateLimiter::new).transpose()?.map(Arc::new),
        next_process: Arc::new(AtomicU64::new(0)),
        stop: stop_rx,
    };

    let progress = Progress::start(
        stats.clone(),
        nemesis.active_faults(),
        history.start(),
        plan.time_limit(),
    );
    let nemesis_thread = {
        let (db, history, stop) = (db.clone(), history.clone(), stop.clone());
        std::thread::Builder::new()
            .name("nemesis".into())
            .spawn(move || {
                nemesis.run(&*db, &history, &stop);
                nemesis
            })
            .context("starting the nemesis thread")?
    };
    let deadline = tokio::time::Instant::from_std(history.start() + plan.time_limit());
    runtime.block_on(workers.run(plan.concurrency, deadline));
    let workload_secs = history.start().elapsed().as_secs_f64();
    stop.stop();
    let nemesis_result = nemesis_thread.join();
    progress.finish();
    let mut nemesis = nemesis_result.map_err(|_| anyhow!("the nemesis thread panicked"))?;
    nemesis.heal_all(&*db, &history);

    let mut final_reads = FinalReads {
        keys: 0,
        unread: Vec::new(),
        recovered: false,
    };
    if !interrupt.interrupted() {
        let recovery = StopFlag::new();
        interrupt.arm(recovery.clone(), stop_tx.clone());
        let until = Instant::now() + RECOVERY;
        let mut ready = wait_for_leader(&*db, RECOVERY, &recovery).is_some();
        if let SutDb::Shard(s) = &*db
            && ready
        {
            // Every group at the latest configuration, every shard served.
            ready = match s.latest_config() {
                Ok(num) => s.wait_settled(
                    num,
                    until.saturating_duration_since(Instant::now()),
                    &recovery,
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "querying the shard controller after the heal");
                    false
                }
            };
        }
        if ready {
            let probe = Op::put(
                "probe",
                if int_values {
                    json!(0)
                } else {
                    json!("probe,")
                },
            );
            let mut w = workers.clone();
            final_reads.recovered =
                runtime.block_on(w.until_ok(&probe, until, Duration::from_millis(100)));
        }
        let mut w = workers.clone();
        final_reads.unread =
            runtime.block_on(w.final_reads(until.max(Instant::now() + Duration::from_secs(5))));
    }
    final_reads.keys = workers
        .generator
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .keys()
        .len();
    interrupt.disarm();
    history.finish()?;
    if let Err(e) = db.stop_all() {
        tracing::warn!(error = %e, "stopping the nodes");
    }
    drop(workers);
    drop(db);
    drop(runtime);
    remove_data_dirs(run_dir);

    let timeout = if interrupt.interrupted() {
        Duration::from_secs(10)
    } else {
        Duration::from_secs_f64(plan.check_timeout_s)
    };
    let check: CheckResult = check_history(history.path(), plan.model, timeout)?;
    Ok(Results::new(
        check,
        stats.counts(),
        stats.latency(),
        workload_secs,
        nemesis.report(),
        final_reads,
        interrupt.interrupted(),
    ))
}

/// The kvnodes in namespaces (`plan.netns`) or on loopback.
fn start_harness(plan: &Plan, run_dir: &std::path::Path) -> Result<AnyHarness> {
    if plan.netns {
        let h = NetnsHarness::start(NetnsOptions {
            bugs: plan.node_bugs.clone(),
            ..NetnsOptions::new(plan.replicas, run_dir)
        })
        .context("starting the kvnode group in network namespaces")?;
        return Ok(AnyHarness::Netns(h));
    }
    let mut opts = LoopbackOptions::new(plan.replicas, run_dir);
    opts.bugs = plan.node_bugs.clone();
    let h = LoopbackHarness::start(opts).context("starting the kvnode group")?;
    Ok(AnyHarness::Loopback(h))
}

/// The nodes' data directories are not kept in the store (only their logs).
fn remove_data_dirs(run_dir: &std::path::Path) {
    let Ok(nodes) = std::fs::read_dir(run_dir.join("nodes")) else {
        return;
    };
    for node in nodes.flatten() {
        let data = node.path().join("data");
        if data.is_dir()
            && let Err(e) = std::fs::remove_dir_all(&data)
        {
            tracing::warn!(dir = %data.display(), error = %e, "cannot remove a data directory");
        }
    }
}
