//! `faultline report RUN_DIR`: rebuilds a run's history.csv, plots and
//! index.html, then the index of the store the run belongs to, and exits
//! with the run's verdict like `faultline run` does.

use anyhow::{Context, Result};

use crate::cli::ReportArgs;

use faultline_reports::results::Verdict;

use super::{EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID};

/// After writing the report: 0 the run is valid, 1 invalid, 2 unknown or
/// interrupted (a valid partial history is not a valid run). An error
/// (missing or malformed file, named in the message) exits 2.
pub fn run(args: &ReportArgs) -> Result<u8> {
    let dir = &args.run_dir;
    let (report, store) = faultline_reports::write_run_and_store_reports(dir)
        .with_context(|| format!("cannot build the report of {}", dir.display()))?;
    println!(
        "report: {} ({}{} run, {} operations, {} fault intervals)",
        report.index_html.display(),
        report.verdict.as_str(),
        if report.interrupted {
            ", interrupted"
        } else {
            ""
        },
        report.ops,
        report.faults
    );
    match store {
        Some(index) => println!(
            "store index: {} ({} runs)",
            index.index_html.display(),
            index.runs.len()
        ),
        None => println!(
            "store index: not rebuilt ({} is not a store run folder <store>/<test>/<YYYYmmddTHHMMSS>)",
            dir.display()
        ),
    }
    Ok(match report.verdict {
        Verdict::Invalid => EXIT_INVALID,
        Verdict::Valid if !report.interrupted => EXIT_VALID,
        Verdict::Valid | Verdict::Unknown => EXIT_UNKNOWN,
    })
}
