//! Writing a run's report: history.csv, the three plots and index.html into
//! the run folder, then the index of the store the run belongs to.

use std::path::{Path, PathBuf};

use crate::csv_export::{HISTORY_CSV, write_history_csv};
use crate::error::{ReportError, Result};
use crate::plots::{PlotInput, write_plots};
use crate::report_page::render_report;
use crate::results::Verdict;
use crate::run_data::{INDEX_HTML, RunData};
use crate::store_index::{StoreIndex, rebuild_store_index};
use crate::timestamps::parse_stamp;

/// What `write_run_report` produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub index_html: PathBuf,
    pub verdict: Verdict,
    /// The run was stopped early (results.json `interrupted`).
    pub interrupted: bool,
    pub ops: usize,
    pub faults: usize,
}

/// Writes `history.csv`, `latency-raw.svg`, `latency-quantiles.svg`,
/// `rate.svg` and `index.html` into `run_dir`, from its `test.json`,
/// `results.json`, `history.jsonl` and `nodes/*/node.log`.
pub fn write_run_report(run_dir: &Path) -> Result<RunReport> {
    if !run_dir.is_dir() {
        return Err(ReportError::io(
            run_dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "run folder not found"),
        ));
    }
    let run = RunData::load(run_dir)?;
    tracing::info!(dir = %run_dir.display(), ops = run.ops.len(), faults = run.faults.len(), "writing report");
    write_history_csv(&run_dir.join(HISTORY_CSV), &run.events)?;
    write_plots(
        run_dir,
        &PlotInput {
            ops: &run.ops,
            faults: &run.faults,
            fault_kinds: &run.fault_kinds,
            fault_colours: &run.fault_colours,
            fs: &run.fs,
            end_ns: run.end_ns,
        },
    )?;
    let html = render_report(&run)?;
    let index_html = run_dir.join(INDEX_HTML);
    std::fs::write(&index_html, html).map_err(|e| ReportError::io(&index_html, e))?;
    Ok(RunReport {
        index_html,
        verdict: run.results.verdict,
        interrupted: run.results.interrupted,
        ops: run.ops.len(),
        faults: run.faults.len(),
    })
}

/// The store a run folder belongs to: its grandparent, when the run folder
/// is named like a store run (`<store>/<test>/<YYYYmmddTHHMMSS>`).
pub fn store_of(run_dir: &Path) -> Option<PathBuf> {
    let dir = run_dir.canonicalize().ok()?;
    let name = dir.file_name()?.to_string_lossy().into_owned();
    parse_stamp(&name)?;
    dir.parent()?.parent().map(Path::to_path_buf)
}

/// Writes the run's report and, when the run lives in a store, rebuilds
/// that store's index.
pub fn write_run_and_store_reports(run_dir: &Path) -> Result<(RunReport, Option<StoreIndex>)> {
    let report = write_run_report(run_dir)?;
    let store = match store_of(run_dir) {
        Some(store) => Some(rebuild_store_index(&store)?),
        None => None,
    };
    Ok((report, store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_the_grandparent_of_a_stamped_run() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("store/register/20240501T120000");
        std::fs::create_dir_all(&run).unwrap();
        let store = store_of(&run).unwrap();
        assert_eq!(store, root.path().join("store").canonicalize().unwrap());
        let loose = root.path().join("somewhere");
        std::fs::create_dir_all(&loose).unwrap();
        assert_eq!(store_of(&loose), None);
    }

    #[test]
    fn an_empty_history_still_gets_a_full_report() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("store/empty/20240501T120000");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(run.join("test.json"), "{}").unwrap();
        std::fs::write(run.join("results.json"), r#"{"verdict":"unknown"}"#).unwrap();
        std::fs::write(run.join("history.jsonl"), "").unwrap();
        let (report, store) = write_run_and_store_reports(&run).unwrap();
        assert_eq!(
            (report.verdict, report.ops, report.faults),
            (Verdict::Unknown, 0, 0)
        );
        for file in [
            "index.html",
            "history.csv",
            "latency-raw.svg",
            "latency-quantiles.svg",
            "rate.svg",
        ] {
            assert!(run.join(file).is_file(), "{file}");
        }
        let html = std::fs::read_to_string(run.join("index.html")).unwrap();
        assert!(html.contains("no client operations") && html.contains("No node logs"));
        assert_eq!(store.unwrap().runs.len(), 1);
    }

    /// A run with one packet fault, its test.json recording `packet`'s
    /// colour when `colour` is given (an old run when it is not).
    fn packet_run(root: &Path, colour: Option<&str>) -> PathBuf {
        let run = root.join("run");
        std::fs::create_dir_all(&run).unwrap();
        let packages = colour
            .map(|c| format!(r##","nemesis_packages":[{{"name":"kill","colour":"#000001"}},{{"name":"packet","colour":"{c}"}}]"##))
            .unwrap_or_default();
        std::fs::write(
            run.join("test.json"),
            format!(r#"{{"name":"t"{packages}}}"#),
        )
        .unwrap();
        std::fs::write(run.join("results.json"), r#"{"verdict":"valid"}"#).unwrap();
        std::fs::write(
            run.join("history.jsonl"),
            [
                r#"{"index":0,"time":1000000,"process":0,"type":"invoke","f":"get","key":"a","value":null}"#,
                r#"{"index":1,"time":2000000,"process":"nemesis","type":"invoke","f":"start-packet","value":null}"#,
                r#"{"index":2,"time":3000000,"process":0,"type":"ok","f":"get","key":"a","value":1}"#,
                r#"{"index":3,"time":9000000,"process":"nemesis","type":"invoke","f":"stop-packet","value":null}"#,
            ]
            .join("\n"),
        )
        .unwrap();
        run
    }

    #[test]
    fn fault_colours_come_from_test_json_on_the_page_and_plots() {
        let root = tempfile::tempdir().unwrap();
        let run = packet_run(root.path(), Some("#123abc"));
        write_run_report(&run).unwrap();
        let html = std::fs::read_to_string(run.join("index.html")).unwrap();
        // The fault table's swatch and the timeline's kind colour.
        assert!(html.contains("background: #123abc"), "page swatch");
        assert!(html.contains(r##""color":"#123abc""##), "timeline colour");
        for plot in ["latency-raw.svg", "latency-quantiles.svg", "rate.svg"] {
            let svg = std::fs::read_to_string(run.join(plot)).unwrap();
            assert!(
                svg.contains("#123ABC"),
                "{plot} shades packet in its recorded colour"
            );
        }

        // An old run without nemesis_packages: packet's fixed colour.
        let old = packet_run(&root.path().join("old"), None);
        write_run_report(&old).unwrap();
        let html = std::fs::read_to_string(old.join("index.html")).unwrap();
        assert!(
            html.contains("background: #2ca02c"),
            "fallback palette keys `packet`"
        );
        let svg = std::fs::read_to_string(old.join("rate.svg")).unwrap();
        assert!(svg.contains("#2CA02C"));
    }

    #[test]
    fn missing_run_folder_is_a_clear_error() {
        let err = write_run_report(Path::new("/no/such/run"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/no/such/run") && err.contains("not found"),
            "{err}"
        );
    }
}
