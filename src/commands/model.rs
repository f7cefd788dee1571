//! `faultline model raft`: exhaustive, bounded model checking of the Raft
//! core with stateright. Prints each property's verdict and, for a
//! counterexample, the shortest trace as readable steps; `--json` prints the
//! run as one JSON object; `--explore ADDR` serves stateright's Explorer.

use anyhow::Result;
use faultline_checker::raft_model::options::LOSSY_HEARTBEATS;
use faultline_checker::raft_model::{
    self, Expectation, ModelRun, RaftModelOptions, SearchOptions, StopWhen, Strategy, Verdict,
};
use faultline_raft::{BugSet, RaftBug};

use crate::cli::ModelArgs;

use super::{EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID};

pub fn run(args: &ModelArgs) -> Result<u8> {
    let opts = match options(args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("faultline model: {msg}");
            return Ok(EXIT_UNKNOWN);
        }
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if let Some(addr) = &args.explore {
        if let Err(e) = opts.validate() {
            eprintln!("faultline model: {e}");
            return Ok(EXIT_UNKNOWN);
        }
        println!("model raft: {}", opts.describe());
        println!("Explorer at http://{addr}/ (Ctrl-C to stop)");
        return match raft_model::explore(opts, threads, addr) {
            Ok(()) => Ok(EXIT_VALID),
            Err(e) => {
                eprintln!("faultline model: {e}");
                Ok(EXIT_UNKNOWN)
            }
        };
    }
    if !args.json {
        println!("model raft: {}, {threads} thread(s)", opts.describe());
    }
    let strategy = match args.strategy.as_str() {
        "dfs" => Strategy::Dfs,
        "simulate" => Strategy::Simulate {
            seed: args.seed.unwrap_or_else(random_seed),
        },
        _ => Strategy::Bfs,
    };
    if let Strategy::Simulate { seed } = strategy {
        // Printed before the run, so an interrupted run can be repeated.
        eprintln!("model raft: simulation seed {seed}");
    }
    let search = SearchOptions {
        threads,
        stop: StopWhen::FirstViolation,
        strategy,
        max_depth: args.max_depth,
        max_states: args.max_states,
    };
    let result = match raft_model::check(opts, search) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("faultline model: {e}");
            return Ok(EXIT_UNKNOWN);
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_human(&result);
    }
    Ok(match result.verdict() {
        Verdict::Holds => EXIT_VALID,
        Verdict::Violated => EXIT_INVALID,
        Verdict::Unknown => EXIT_UNKNOWN,
    })
}

/// A seed for a simulation run when none is given (printed by the caller).
fn random_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The bounds from the flags, defaults for those not given.
fn options(args: &ModelArgs) -> Result<RaftModelOptions, String> {
    let mut opts = RaftModelOptions::default();
    if let Some(n) = args.servers {
        opts.servers = n;
    }
    if let Some(n) = args.max_term {
        opts.max_term = n;
    }
    if let Some(n) = args.max_log {
        opts.max_log = n;
    }
    if let Some(n) = args.crashes {
        opts.crashes =
            u8::try_from(n).map_err(|_| format!("--crashes must be at most 255, got {n}"))?;
    }
    if let Some(n) = args.proposals {
        opts.proposals = n;
    }
    if let Some(n) = args.reads {
        opts.reads = n;
    }
    opts.lossy = args.lossy;
    opts.duplicating = args.duplicating;
    opts.heartbeats = args
        .heartbeats
        .unwrap_or(if args.lossy { LOSSY_HEARTBEATS } else { 0 });
    opts.pre_vote = args.prevote;
    opts.elections = match (args.elections, args.prevote) {
        (Some(n), _) => Some(n),
        // Terms do not bound PreVote campaigns: one per term, and a spare.
        (None, true) => Some(u8::try_from(opts.max_term + 1).unwrap_or(u8::MAX)),
        (None, false) => None,
    };
    opts.conf_changes = args.conf_changes.unwrap_or(0);
    opts.spares = args
        .spares
        .unwrap_or(if opts.conf_changes > 0 { 1 } else { 0 });
    opts.symmetry = !args.no_symmetry;
    let mut bugs = BugSet::new();
    if let Some(names) = &args.bug {
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            bugs.insert(name.parse::<RaftBug>().map_err(|e| e.to_string())?);
        }
    }
    opts.bugs = bugs;
    opts.validate().map_err(|e| e.to_string())?;
    Ok(opts)
}

fn print_human(run: &ModelRun) {
    let how = if run.complete {
        ", complete".to_string()
    } else if run.verdict() == Verdict::Violated {
        ", stopped at the first violation".to_string()
    } else if let Some(seed) = run.seed {
        format!(", simulation (seed {seed}): not exhaustive")
    } else {
        ", incomplete (a depth or state bound cut the search)".to_string()
    };
    println!(
        "{} {} states ({} generated), depth {}, {:.1} s, {:.0} states/s{how}",
        run.unique_states,
        if run.seed.is_some() {
            "visited"
        } else {
            "unique"
        },
        run.states,
        run.max_depth,
        run.elapsed_s,
        run.states_per_s,
    );
    if let Some(seed) = run.seed {
        println!("  strategy simulate, seed {seed} (--strategy simulate --seed {seed} repeats it)");
    }
    for p in &run.properties {
        let verdict = match (p.expectation, p.holds) {
            (Expectation::Always, Some(true)) => "holds",
            (Expectation::Always, Some(false)) => "VIOLATED",
            (Expectation::Sometimes, Some(true)) => "reached",
            (Expectation::Sometimes, Some(false)) => "NEVER REACHED",
            (_, None) => "unknown (search stopped)",
        };
        println!("  {:<9} {:<38} {verdict}", p.expectation.name(), p.name);
    }
    for p in &run.properties {
        if p.expectation == Expectation::Always
            && let Some(trace) = &p.trace
        {
            println!("\ncounterexample to {} ({} steps):", p.name, trace.len());
            for (k, step) in trace.iter().enumerate() {
                println!("{:>3}. {}", k + 1, step.step);
                for line in step.state.lines() {
                    println!("       {line}");
                }
            }
        }
    }
    match run.verdict() {
        Verdict::Holds => println!("\nall properties hold within the bounds"),
        Verdict::Violated => println!("\nviolation found"),
        Verdict::Unknown => println!("\nunknown: the search stopped before it could tell"),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(flags: &[&str]) -> Result<RaftModelOptions, String> {
        let argv = ["faultline", "model", "raft"].iter().chain(flags);
        let Command::Model(args) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not the model command");
        };
        options(&args)
    }

    #[test]
    fn heartbeats_default_to_none_and_lossy_gives_a_budget() {
        assert_eq!(parse(&[]).unwrap().heartbeats, 0);
        let lossy = parse(&["--lossy"]).unwrap();
        assert!(lossy.lossy);
        assert_eq!(lossy.heartbeats, LOSSY_HEARTBEATS);
        const { assert!(LOSSY_HEARTBEATS > 0) };
        assert_eq!(
            parse(&["--lossy", "--heartbeats", "0"]).unwrap().heartbeats,
            0
        );
        assert_eq!(parse(&["--heartbeats", "3"]).unwrap().heartbeats, 3);
    }

    #[test]
    fn prevote_gets_an_elections_budget_and_symmetry_can_be_turned_off() {
        let o = parse(&["--prevote", "--max-term", "3"]).unwrap();
        assert!(o.pre_vote);
        assert_eq!(o.elections, Some(4));
        assert_eq!(
            parse(&["--prevote", "--elections", "2"]).unwrap().elections,
            Some(2)
        );
        assert_eq!(parse(&[]).unwrap().elections, None);
        assert!(parse(&[]).unwrap().symmetry);
        assert!(!parse(&["--no-symmetry"]).unwrap().symmetry);
        assert!(parse(&["--bug", "no-such-bug"]).is_err());
    }

    #[test]
    fn conf_changes_bring_one_spare_unless_told_otherwise() {
        let none = parse(&[]).unwrap();
        assert_eq!((none.conf_changes, none.spares), (0, 0));
        let on = parse(&["--conf-changes", "2", "--servers", "4"]).unwrap();
        assert_eq!((on.conf_changes, on.spares, on.servers), (2, 1, 4));
        let no_spare = parse(&["--conf-changes", "2", "--spares", "0"]).unwrap();
        assert_eq!(no_spare.spares, 0);
        let err = parse(&["--spares", "1"]).unwrap_err();
        assert!(err.contains("--conf-changes"), "{err}");
    }
}
