//! One test, start to end, over any system under test: run folder and
//! marker, `test.json`, the system built from the registry and set up,
//! ready (its own notion: a leader, shard groups joined...), clients +
//! nemesis until the time limit (or a signal), final heal, recovery (the
//! system's own notion, then an applied write), final reads, teardown, the
//! nodes' logs, the composed checks, `results.json`, the report and the
//! store index. The system is torn down however the test ends.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use faultline_checker::Verdict;
use faultline_nemesis::{Nemesis, Schedule, ScheduleOptions, parse_packages_for};
use faultline_reports::schema::{
    FinalReads, PackageRecord, RESULTS_FILE, RunResults, TEST_FILE, TestRecord, Versions,
    write_json,
};
use faultline_workloads::rate::RateLimiter;
use faultline_workloads::runner::Workers;
use faultline_workloads::{Db, HistoryWriter, Op, Stats, StopFlag};
use serde_json::json;
use tokio::sync::watch;

use crate::error::RunnerError;
use crate::interrupt::{Interruption, Switch};
use crate::markers::{MarkedDb, Marker};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::results::{Tally, check_history, checkers, results};
use crate::store::{collect_logs, create_run_dir, replay_command};
use crate::system::SystemContext;

/// How long, after the final heal, recovery and the final reads may take.
const RECOVERY: Duration = Duration::from_secs(30);

/// What one test ended with.
#[derive(Debug)]
pub struct TestOutcome {
    pub run_dir: PathBuf,
    pub seed: u64,
    pub interrupted: bool,
    pub results: Option<RunResults>,
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

/// Run one test of `plan`; signals come through `interruption`.
pub fn run_test(plan: &Plan, interruption: &dyn Interruption) -> Result<TestOutcome, RunnerError> {
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
        mode: if plan.hosts_file().is_some() {
            "ssh"
        } else if plan.netns {
            "netns"
        } else {
            "loopback"
        }
        .to_string(),
        netns_run: None,
        system: None,
        options: plan.options.clone(),
        nemesis_packages: nemesis
            .packages()
            .into_iter()
            .map(|(name, colour)| PackageRecord {
                name: name.to_string(),
                colour: colour.to_string(),
            })
            .collect(),
        versions: Versions::current(),
        start: started.to_rfc3339(),
        end: None,
        interrupted: false,
        error: None,
        replay: replay_command(plan),
    };
    let test_json = run_dir.join(TEST_FILE);
    write_json(&test_json, &record)?;
    println!(
        "faultline run: {} (seed {}, {} s, {}) -> {}",
        plan.name,
        plan.seed,
        plan.time_limit_s,
        plan.system.name(),
        run_dir.display()
    );
    let outcome = execute(plan, interruption, &run_dir, &run_id, nemesis, &mut record);
    record.end = Some(Utc::now().to_rfc3339());
    record.interrupted = interruption.interrupted();
    let outcome = match outcome {
        Ok(results) => {
            write_json(&run_dir.join(RESULTS_FILE), &results)?;
            TestOutcome {
                run_dir: run_dir.clone(),
                seed: plan.seed,
                interrupted: record.interrupted,
                results: Some(results),
                error: None,
            }
        }
        Err(e) => {
            record.error = Some(e.to_string());
            TestOutcome {
                run_dir: run_dir.clone(),
                seed: plan.seed,
                interrupted: record.interrupted,
                results: None,
                error: Some(e.to_string()),
            }
        }
    };
    write_json(&test_json, &record)?;
    if outcome.results.is_some()
        && let Err(e) = faultline_reports::write_run_and_store_reports(&run_dir)
    {
        eprintln!("faultline: warning: the report could not be written: {e}");
    }
    Ok(outcome)
}

/// Build and set up the system, run the test on it, tear it down and
/// collect its logs (however the test went), then check the history.
fn execute(
    plan: &Plan,
    interruption: &dyn Interruption,
    run_dir: &Path,
    run_id: &str,
    nemesis: Nemesis,
    record: &mut TestRecord,
) -> Result<RunResults, RunnerError> {
    let marker = Marker::create(run_id, run_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunnerError::System(format!("starting the tokio runtime: {e}")))?;
    let ctx = SystemContext {
        plan: plan.clone(),
        run_dir: run_dir.to_path_buf(),
        runtime: runtime.handle().clone(),
    };
    let db = Arc::new(MarkedDb::new(plan.system.build(&ctx)?, marker));
    let ran = drive(plan, interruption, run_dir, nemesis, record, &db, &runtime);
    if let Err(e) = db.teardown() {
        tracing::warn!(error = %e, "stopping the nodes");
    }
    collect_logs(run_dir, &db.log_files());
    drop(db);
    drop(runtime);
    let (nemesis, tally, history) = ran?;
    let timeout = if interruption.interrupted() {
        Duration::from_secs(10)
    } else {
        Duration::from_secs_f64(plan.check_timeout_s)
    };
    let composed = check_history(&history, &checkers(plan, timeout))?;
    Ok(results(composed, tally, nemesis.report()))
}

/// The test proper on a built system: set up, ready, workload + nemesis,
/// heal, recovery and final reads. Returns the nemesis (for its report),
/// the tally and the history's path.
fn drive(
    plan: &Plan,
    interruption: &dyn Interruption,
    run_dir: &Path,
    mut nemesis: Nemesis,
    record: &mut TestRecord,
    db: &Arc<MarkedDb>,
    runtime: &tokio::runtime::Runtime,
) -> Result<(Nemesis, Tally, PathBuf), RunnerError> {
    let see_logs = |e: &dyn std::fmt::Display| {
        RunnerError::System(format!("{e}; see {}/nodes/*/node.log", run_dir.display()))
    };
    db.setup().map_err(|e| see_logs(&e))?;
    record.netns_run = db.network().and_then(|n| n.run_id());
    record.system = Some(db.describe());
    write_json(&run_dir.join(TEST_FILE), record)?;
    println!("  {}", db.describe());

    let (stop_tx, stop_rx) = watch::channel(false);
    let startup = StopFlag::new();
    interruption.arm(Switch {
        flag: startup.clone(),
        clients: stop_tx.clone(),
    });
    if let Err(e) = db.await_ready(&startup)
        && !interruption.interrupted()
    {
        return Err(see_logs(&e));
    }
    let stop = StopFlag::new();
    interruption.arm(Switch {
        flag: stop.clone(),
        clients: stop_tx.clone(),
    });

    let history = Arc::new(HistoryWriter::create(&run_dir.join("history.jsonl"))?);
    let stats = Arc::new(Stats::default());
    let workers = Workers {
        factory: db.clients()?,
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
            .map_err(|e| RunnerError::System(format!("starting the nemesis thread: {e}")))?
    };
    let deadline = tokio::time::Instant::from_std(history.start() + plan.time_limit());
    runtime.block_on(workers.run(plan.concurrency, deadline));
    let workload_secs = history.start().elapsed().as_secs_f64();
    stop.stop();
    let nemesis_result = nemesis_thread.join();
    progress.finish();
    let mut nemesis = nemesis_result
        .map_err(|_| RunnerError::System("the nemesis thread panicked".to_string()))?;
    nemesis.heal_all(&**db, &history);

    let mut final_reads = FinalReads::default();
    if !interruption.interrupted() {
        let recovery = StopFlag::new();
        interruption.arm(Switch {
            flag: recovery.clone(),
            clients: stop_tx.clone(),
        });
        let until = Instant::now() + RECOVERY;
        if db.await_recovery(until, &recovery) {
            let probe = Op::put(
                "probe",
                if plan.int_values() {
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
    interruption.disarm();
    history.finish()?;
    let tally = Tally {
        ops: stats.counts(),
        latency: stats.latency(),
        workload_secs,
        final_reads,
        interrupted: interruption.interrupted(),
    };
    Ok((nemesis, tally, history.path().to_path_buf()))
}
