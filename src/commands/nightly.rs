//! `faultline nightly`: runs a matrix of workloads × nemesis configurations
//! (`--test-count` runs of each), records a summary per nightly in
//! `store/nightly/<YYYYmmddTHHMMSS>.json` (rewritten after every run, so an
//! interrupted nightly leaves a partial one), rebuilds the store index (whose
//! trend table is made from these summaries), prints a table and exits with
//! the worst result: 0 every run valid, 1 some run invalid, 2 none invalid but
//! some unknown or failed, nothing could run, or interrupted.
//!
//! Each run is `faultline run` started as a child process of this same
//! binary (`std::env::current_exe`) with an explicit `--name`, `--seed` and
//! `--store`: the exact code path and output of a user's `faultline run`,
//! its own signal handling and clean-up, and isolation (a run that fails or
//! crashes cannot take the nightly down). The nightly reads each run's
//! outcome from the run folder (results.json, test.json), which it finds by
//! the seed. Ctrl-C / SIGTERM is forwarded to the run in progress, which
//! heals, stops its nodes and keeps its partial folder; the nightly then
//! stops and writes its partial summary.
//!
//! The pieces: [`matrix`] (configurations, network skips, seeds), [`child`]
//! (one run, signals), [`table`] (the printed table).

mod child;
mod matrix;
mod table;

use std::time::Instant;

use anyhow::Result;
use chrono::Utc;
use faultline_reports::nightly::{
    NightlyConfig, NightlyOptions, NightlySummary, RunOutcome, create_summary, write_summary,
};

use super::{EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID};
use crate::cli::NightlyArgs;
use child::{ChildSpec, Interrupt, run_child};
use faultline_runner::check_limits;
use matrix::Config;
pub use matrix::DEFAULT_NEMESIS;

/// Why the nodes would run on loopback here (`None`: in namespaces).
fn loopback_reason(no_netns: bool) -> Option<String> {
    if no_netns {
        return Some("--no-netns was given".to_string());
    }
    faultline_harness::netns::preflight()
        .err()
        .map(|e| e.to_string())
}

fn check_options(args: &NightlyArgs) -> Result<()> {
    check_limits(
        args.time_limit,
        args.test_count,
        args.nemesis_interval,
        args.check_timeout,
    )?;
    if let Some(bug) = &args.bug {
        faultline_kvnode::bugs::NodeBugs::parse(&[bug.as_str()])?;
    }
    Ok(())
}

/// The arguments of one `faultline run`.
fn run_args(args: &NightlyArgs, config: &Config, seed: u64) -> Vec<String> {
    let mut a: Vec<String> = [
        "run",
        "--workload",
        config.workload,
        "--nemesis",
        &config.run_nemesis,
        "--name",
        &config.name,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend([
        "--time-limit".to_string(),
        args.time_limit.to_string(),
        "--nemesis-interval".to_string(),
        args.nemesis_interval.to_string(),
        "--check-timeout".to_string(),
        args.check_timeout.to_string(),
        "--seed".to_string(),
        seed.to_string(),
        "--store".to_string(),
        args.store.display().to_string(),
    ]);
    if let Some(bug) = &args.bug {
        a.extend(["--bug".to_string(), bug.clone()]);
    }
    if args.no_netns {
        a.push("--no-netns".to_string());
    }
    a
}

/// 1 if any run is invalid; else 2 if any is unknown or failed, the nightly
/// was interrupted, or nothing ran; else 0.
fn exit_code(summary: &NightlySummary) -> u8 {
    match summary.worst() {
        Some(RunOutcome::Invalid) => EXIT_INVALID,
        Some(RunOutcome::Unknown | RunOutcome::Error) | None => EXIT_UNKNOWN,
        Some(RunOutcome::Valid) if summary.interrupted => EXIT_UNKNOWN,
        Some(RunOutcome::Valid) => EXIT_VALID,
    }
}

/// Writes the summary and rebuilds the store index; a failure is a warning
/// (the runs themselves are in the store either way).
fn save(args: &NightlyArgs, summary: &NightlySummary) {
    if let Err(e) = write_summary(&args.store, summary) {
        eprintln!("faultline nightly: warning: cannot write the summary: {e}");
    }
    if let Err(e) = faultline_reports::rebuild_store_index(&args.store) {
        eprintln!("faultline nightly: warning: cannot rebuild the store index: {e}");
    }
}

pub fn run(args: &NightlyArgs) -> Result<u8> {
    check_options(args)?;
    let configs = matrix::build(&args.workloads, &args.nemesis, args.bug.as_deref())?;
    let base_seed = args.seed.unwrap_or_else(matrix::random_seed);
    let loopback = loopback_reason(args.no_netns);
    let interrupt = Interrupt::install()?;
    std::fs::create_dir_all(&args.store).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the store folder {}: {e}",
            args.store.display()
        )
    })?;

    let started = Instant::now();
    let mut summary = NightlySummary::new(
        Utc::now(),
        NightlyOptions {
            time_limit_s: args.time_limit,
            test_count: args.test_count,
            seed: base_seed,
            bug: args.bug.clone(),
            nemesis_interval_s: args.nemesis_interval,
            check_timeout_s: Some(args.check_timeout),
            no_netns: args.no_netns,
            workloads: args
                .workloads
                .iter()
                .map(|w| matrix::workload_name(*w).to_string())
                .collect(),
            nemesis: args.nemesis.clone(),
        },
    );
    summary.mode = if loopback.is_some() {
        "loopback"
    } else {
        "netns"
    }
    .to_string();
    summary.mode_reason = loopback.clone();
    summary.configurations = configs
        .iter()
        .map(|c| NightlyConfig {
            name: c.name.clone(),
            workload: c.workload.to_string(),
            nemesis: c.nemesis.clone(),
            skipped: matrix::skip_reason(c, loopback.as_deref()),
            runs: Vec::new(),
        })
        .collect();
    let path = create_summary(&args.store, &mut summary)?;
    let to_run = summary
        .configurations
        .iter()
        .filter(|c| c.skipped.is_none())
        .count()
        * args.test_count;
    println!(
        "faultline nightly {}: {} configuration(s) x {} run(s), {} s each, base seed {}, nodes {}",
        summary.stamp,
        configs.len(),
        args.test_count,
        args.time_limit,
        base_seed,
        match &loopback {
            None => "in network namespaces".to_string(),
            Some(why) => format!("on loopback ({why})"),
        }
    );
    for c in summary
        .configurations
        .iter()
        .filter(|c| c.skipped.is_some())
    {
        println!(
            "  skipping {}: {}",
            c.name,
            c.skipped.as_deref().unwrap_or_default()
        );
    }
    println!("  summary: {}", path.display());

    let mut done = 0;
    'matrix: for (i, config) in configs.iter().enumerate() {
        if summary.configurations[i].skipped.is_some() {
            continue;
        }
        for rep in 0..args.test_count {
            if interrupt.interrupted() {
                break 'matrix;
            }
            done += 1;
            let seed = matrix::run_seed(base_seed, &config.name, rep);
            println!(
                "\n=== nightly run {done} of {to_run}: {} (run {} of {}), seed {seed} ===",
                config.name,
                rep + 1,
                args.test_count
            );
            let spec = ChildSpec {
                store: &args.store,
                name: &config.name,
                seed,
                args: run_args(args, config, seed),
            };
            let run = run_child(&spec, &interrupt)?;
            println!(
                "nightly: {} seed {seed}: {}{} in {:.1} s{}",
                config.name,
                run.outcome.as_str().to_uppercase(),
                run.ops_per_s
                    .map(|v| format!(", {v:.1} ok/s"))
                    .unwrap_or_default(),
                run.duration_s,
                run.run_dir
                    .as_deref()
                    .map(|d| format!(" -> {}", args.store.join(d).display()))
                    .unwrap_or_default()
            );
            summary.configurations[i].runs.push(run);
            summary.duration_s = started.elapsed().as_secs_f64();
            save(args, &summary);
        }
    }

    summary.interrupted = interrupt.interrupted();
    summary.complete = !summary.interrupted;
    summary.ended = Some(Utc::now().to_rfc3339());
    summary.duration_s = started.elapsed().as_secs_f64();
    let code = exit_code(&summary);
    summary.exit_code = Some(code);
    save(args, &summary);

    println!("\n{}", table::render(&summary));
    if summary.counts().runs == 0 && !summary.interrupted {
        println!(
            "no configuration could run here; run as root with ip and iptables for network faults, or choose --nemesis none,kill,pause"
        );
    }
    if summary.interrupted {
        println!("interrupted: partial summary written");
    }
    println!("summary:     {}", path.display());
    println!(
        "store index: {}  (nightly trend table)",
        args.store.join("index.html").display()
    );
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_reports::nightly::NightlyRun;

    fn summary_with(outcomes: &[RunOutcome], interrupted: bool) -> NightlySummary {
        let mut s = NightlySummary::new(
            Utc::now(),
            NightlyOptions {
                time_limit_s: 1,
                test_count: 1,
                seed: 0,
                bug: None,
                nemesis_interval_s: 1.0,
                check_timeout_s: None,
                no_netns: false,
                workloads: vec![],
                nemesis: vec![],
            },
        );
        s.interrupted = interrupted;
        s.configurations = vec![NightlyConfig {
            name: "register-none".into(),
            workload: "register".into(),
            nemesis: "none".into(),
            skipped: None,
            runs: outcomes
                .iter()
                .map(|&outcome| NightlyRun {
                    seed: 0,
                    outcome,
                    interrupted: false,
                    run_dir: None,
                    exit_code: None,
                    ops_per_s: None,
                    ops: None,
                    duration_s: 0.0,
                    error: None,
                })
                .collect(),
        }];
        s
    }

    #[test]
    fn exit_codes() {
        use RunOutcome::*;
        assert_eq!(exit_code(&summary_with(&[Valid, Valid], false)), 0);
        assert_eq!(exit_code(&summary_with(&[Valid, Invalid, Error], false)), 1);
        assert_eq!(exit_code(&summary_with(&[Valid, Unknown], false)), 2);
        assert_eq!(exit_code(&summary_with(&[Error], false)), 2);
        assert_eq!(exit_code(&summary_with(&[], false)), 2, "nothing ran");
        assert_eq!(exit_code(&summary_with(&[Valid], true)), 2);
        assert_eq!(exit_code(&summary_with(&[Invalid], true)), 1);
    }

    #[test]
    fn run_arguments_are_those_of_faultline_run() {
        use clap::Parser;
        let cli = crate::cli::Cli::parse_from([
            "faultline",
            "nightly",
            "--bug",
            "no-dedup",
            "--no-netns",
            "--time-limit",
            "7",
        ]);
        let crate::cli::Command::Nightly(args) = cli.command else {
            panic!("not nightly");
        };
        assert_eq!(args.workloads.len(), 2);
        assert_eq!(args.nemesis.len(), 7);
        let configs = matrix::build(&args.workloads, &args.nemesis, args.bug.as_deref()).unwrap();
        let a = run_args(&args, &configs[1], 99);
        let mut argv = vec!["faultline".to_string()];
        argv.extend(a);
        let run = crate::cli::Cli::try_parse_from(&argv).unwrap();
        let crate::cli::Command::Run(r) = run.command else {
            panic!("not run: {argv:?}");
        };
        assert_eq!(
            (
                r.nemesis.as_str(),
                r.seed,
                r.time_limit,
                r.bug.as_deref(),
                r.no_netns,
                r.name.as_deref()
            ),
            (
                "kill",
                Some(99),
                7,
                Some("no-dedup"),
                true,
                Some("register-kill-no-dedup")
            )
        );
        assert_eq!((r.nemesis_interval, r.check_timeout), (5.0, 60.0));
    }
}
