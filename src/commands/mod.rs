//! One module per subcommand; `dispatch` routes to them and returns the exit
//! code of DESIGN.md (0 valid, 1 violation, 2 unknown / usage / environment).
//! Shared by `run` and `nightly`: [`interrupt`], the signal handler.

mod bench;
mod bench_kv;
mod bugs;
mod check;
mod clean;
mod interrupt;
mod model;
pub(crate) mod nightly;
mod report;
mod run;
mod serve;
mod sim;

use anyhow::Result;

use crate::cli::Command;

/// Exit code: everything checked holds.
pub const EXIT_VALID: u8 = 0;
/// Exit code: a violation was found.
pub const EXIT_INVALID: u8 = 1;
/// Exit code: unknown, usage error or environment problem.
pub const EXIT_UNKNOWN: u8 = 2;

pub fn dispatch(command: Command) -> Result<u8> {
    match command {
        Command::Bugs(args) => bugs::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Model(args) => model::run(&args),
        Command::Sim(args) => sim::run(&args),
        Command::Bench(args) => match args.what {
            crate::cli::BenchWhat::Checker(a) => bench::checker(&a),
            crate::cli::BenchWhat::Kv(a) => bench_kv::run(&a),
        },
        Command::Report(args) => report::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Nightly(args) => nightly::run(&args),
        Command::Clean => clean::run(),
    }
}
