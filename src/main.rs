//! The `faultline` binary: parses the command line and hands each subcommand
//! to its module in `commands/`. Wiring only; the work lives in the crates.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("faultline: error: {err:#}");
            ExitCode::from(commands::EXIT_UNKNOWN)
        }
    }
}
