//! `faultline report RUN_DIR`: rebuilds a run's history.csv, plots and
//! index.html, then the index of the store the run belongs to.

use anyhow::{Context, Result};

use crate::cli::ReportArgs;

use super::EXIT_VALID;

/// Exit 0 when the report was written (whatever the run's verdict); an
/// error (missing or malformed file, named in the message) exits 2.
pub fn run(args: &ReportArgs) -> Result<u8> {
    let dir = &args.run_dir;
    let (report, store) = faultline_reports::write_run_and_store_reports(dir)
        .with_context(|| format!("cannot build the report of {}", dir.display()))?;
    println!(
        "report: {} ({} run, {} operations, {} fault intervals)",
        report.index_html.display(),
        report.verdict.as_str(),
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
    Ok(EXIT_VALID)
}
