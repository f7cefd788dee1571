//! The nightly trend table of the store index: one column per nightly run
//! (newest first), one row per configuration (workload × nemesis), each cell
//! the verdict mark of every run of that configuration in that nightly
//! (linking to the run's report) and its mean throughput. A configuration
//! missing from a nightly is an empty cell; one the nightly skipped says why.

use std::path::Path;

use serde::Serialize;

use crate::nightly::{NIGHTLY_DIR, NightlyConfig, NightlySummary, RunOutcome};
use crate::run_data::INDEX_HTML;
use crate::timestamps::display;

/// How many nightlies (columns) the store index shows.
pub const TREND_COLUMNS: usize = 20;

/// The data behind the trend table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrendTable {
    /// Nightlies, newest first.
    pub columns: Vec<TrendColumn>,
    /// Configurations in order of first appearance (newest nightly first,
    /// then each nightly's matrix order).
    pub rows: Vec<TrendRow>,
    /// Older nightlies left out (beyond [`TREND_COLUMNS`]).
    pub omitted: usize,
}

/// One nightly run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendColumn {
    pub stamp: String,
    pub time: String,
    /// `nightly/<file>.json`, relative to the store.
    pub summary_link: String,
    /// `3 valid, 1 invalid`.
    pub counts: String,
    /// Verdict class of the worst run (`valid`, `invalid`, `unknown`).
    pub class: &'static str,
    pub complete: bool,
    pub interrupted: bool,
    pub time_limit_s: u64,
    pub mode: String,
}

/// One configuration across the nightlies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendRow {
    pub name: String,
    pub workload: String,
    pub nemesis: String,
    /// One per column.
    pub cells: Vec<TrendCell>,
}

/// What one nightly recorded for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum TrendCell {
    /// The configuration was not in that nightly's matrix.
    Missing,
    /// The nightly skipped it, saying why.
    Skipped { reason: String },
    /// It was in the matrix but no run of it happened (interrupted before).
    NotRun,
    /// Its runs.
    Runs {
        /// Verdict class of the worst run.
        class: &'static str,
        runs: Vec<TrendRun>,
        /// Mean ops/s over the runs that measured it, as text (`812`, or `–`).
        throughput: String,
        /// The same, as a number (`None`: no run measured it).
        ops_per_s: Option<f64>,
    },
}

/// One run's mark in a cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendRun {
    pub outcome: RunOutcome,
    pub mark: &'static str,
    pub class: &'static str,
    /// The run's report (or folder), relative to the store; `None` when the
    /// run has no folder or it is gone.
    pub link: Option<String>,
    /// Hover text: verdict, seed, ops/s, error.
    pub title: String,
}

/// Builds the table from `nightlies` (newest first, as
/// `nightly::collect_nightlies` returns them), at most `max_columns` of them.
/// Run links are checked against `store`: a report when there is one, else
/// the folder, else none.
pub fn trend_table(
    store: &Path,
    nightlies: &[(String, NightlySummary)],
    max_columns: usize,
) -> TrendTable {
    let shown = &nightlies[..nightlies.len().min(max_columns)];
    let mut rows: Vec<TrendRow> = Vec::new();
    for (_, summary) in shown {
        for config in &summary.configurations {
            if !rows.iter().any(|r| r.name == config.name) {
                rows.push(TrendRow {
                    name: config.name.clone(),
                    workload: config.workload.clone(),
                    nemesis: config.nemesis.clone(),
                    cells: Vec::new(),
                });
            }
        }
    }
    for row in &mut rows {
        row.cells = shown
            .iter()
            .map(|(_, summary)| {
                summary
                    .configurations
                    .iter()
                    .find(|c| c.name == row.name)
                    .map_or(TrendCell::Missing, |c| cell(store, c))
            })
            .collect();
    }
    TrendTable {
        columns: shown.iter().map(|(file, s)| column(file, s)).collect(),
        rows,
        omitted: nightlies.len() - shown.len(),
    }
}

fn column(file: &str, s: &NightlySummary) -> TrendColumn {
    TrendColumn {
        stamp: s.stamp.clone(),
        time: s
            .start_time()
            .as_ref()
            .map(display)
            .unwrap_or_else(|| s.stamp.clone()),
        summary_link: format!("{NIGHTLY_DIR}/{file}"),
        counts: s.counts().text(),
        class: s.worst().map_or("unknown", RunOutcome::class),
        complete: s.complete,
        interrupted: s.interrupted,
        time_limit_s: s.options.time_limit_s,
        mode: s.mode.clone(),
    }
}

fn cell(store: &Path, config: &NightlyConfig) -> TrendCell {
    if let Some(reason) = &config.skipped {
        return TrendCell::Skipped {
            reason: reason.clone(),
        };
    }
    let Some(worst) = config.worst() else {
        return TrendCell::NotRun;
    };
    let measured: Vec<f64> = config
        .runs
        .iter()
        .filter_map(|r| r.ops_per_s)
        .filter(|v| v.is_finite())
        .collect();
    let ops_per_s =
        (!measured.is_empty()).then(|| measured.iter().sum::<f64>() / measured.len() as f64);
    TrendCell::Runs {
        class: worst.class(),
        runs: config
            .runs
            .iter()
            .map(|r| {
                let mut title = format!("{} · seed {}", r.outcome.as_str(), r.seed);
                if r.interrupted {
                    title += " · interrupted";
                }
                if let Some(v) = r.ops_per_s {
                    title += &format!(" · {v:.1} ops/s");
                }
                if let Some(e) = &r.error {
                    title += &format!(" · {e}");
                }
                TrendRun {
                    outcome: r.outcome,
                    mark: r.outcome.mark(),
                    class: r.outcome.class(),
                    link: r.run_dir.as_deref().and_then(|d| run_link(store, d)),
                    title,
                }
            })
            .collect(),
        throughput: ops_per_s.map_or_else(|| "–".to_string(), |v| format!("{v:.0}")),
        ops_per_s,
    }
}

/// A link to a run relative to the store: `<dir>/index.html` when the report
/// exists, `<dir>/` when only the folder does. Paths that are absolute or
/// climb out of the store give no link.
fn run_link(store: &Path, dir: &str) -> Option<String> {
    let dir = dir.trim_end_matches('/');
    let safe = !dir.is_empty()
        && !dir.starts_with('/')
        && !dir.contains('\\')
        && dir
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if !safe {
        return None;
    }
    let path = store.join(dir);
    if path.join(INDEX_HTML).is_file() {
        Some(format!("{dir}/{INDEX_HTML}"))
    } else if path.is_dir() {
        Some(format!("{dir}/"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nightly::tests::{config, run, summary};
    use crate::nightly::{NightlyRun, collect_nightlies, write_summary};

    fn runs(cell: &TrendCell) -> Vec<(&'static str, Option<&str>)> {
        match cell {
            TrendCell::Runs { runs, .. } => {
                runs.iter().map(|r| (r.mark, r.link.as_deref())).collect()
            }
            other => panic!("not a runs cell: {other:?}"),
        }
    }

    #[test]
    fn columns_newest_first_rows_by_first_appearance_and_missing_cells() {
        let store = tempfile::tempdir().unwrap();
        let s = store.path();
        // Run folders: one with a report, one without; the third is gone.
        std::fs::create_dir_all(s.join("register-none/20260101T000001")).unwrap();
        std::fs::write(s.join("register-none/20260101T000001/index.html"), "").unwrap();
        std::fs::create_dir_all(s.join("register-kill/20260101T000101")).unwrap();
        let old = summary(
            "20260101T000000",
            vec![
                config(
                    "register-none",
                    vec![run(
                        RunOutcome::Valid,
                        "register-none/20260101T000001",
                        1000.0,
                    )],
                ),
                config(
                    "register-kill",
                    vec![
                        run(RunOutcome::Valid, "register-kill/20260101T000101", 800.0),
                        run(RunOutcome::Invalid, "register-kill/gone", 600.0),
                    ],
                ),
            ],
        );
        let mut new = summary(
            "20260102T000000",
            vec![
                config(
                    "append-kill",
                    vec![run(RunOutcome::Unknown, "../../etc", 500.0)],
                ),
                config(
                    "register-none",
                    vec![NightlyRun {
                        ops_per_s: None,
                        error: Some("no leader".into()),
                        run_dir: None,
                        ..run(RunOutcome::Error, "", 0.0)
                    }],
                ),
                crate::nightly::NightlyConfig {
                    skipped: Some("needs namespaces".into()),
                    ..config("register-partition", vec![])
                },
                config("register-pause", vec![]),
            ],
        );
        new.complete = false;
        new.interrupted = true;
        for sm in [&old, &new] {
            write_summary(s, sm).unwrap();
        }
        let nightlies = collect_nightlies(s);
        let t = trend_table(s, &nightlies.summaries, TREND_COLUMNS);
        assert_eq!(t.omitted, 0);
        let stamps: Vec<_> = t.columns.iter().map(|c| c.stamp.as_str()).collect();
        assert_eq!(stamps, ["20260102T000000", "20260101T000000"]);
        assert_eq!(t.columns[0].summary_link, "nightly/20260102T000000.json");
        assert_eq!(t.columns[0].class, "unknown", "an error run is the worst");
        assert!(t.columns[0].interrupted && !t.columns[0].complete);
        assert_eq!(t.columns[1].class, "invalid");
        assert_eq!(t.columns[1].counts, "2 valid, 1 invalid");
        let names: Vec<_> = t.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "append-kill",
                "register-none",
                "register-partition",
                "register-pause",
                "register-kill"
            ]
        );
        let row = |n: &str| t.rows.iter().find(|r| r.name == n).unwrap();
        // append-kill: only in the new nightly; an unsafe run path gets no link.
        assert_eq!(runs(&row("append-kill").cells[0]), [("?", None)]);
        assert_eq!(row("append-kill").cells[1], TrendCell::Missing);
        // register-none: an error run without a folder, then a linked report.
        assert_eq!(runs(&row("register-none").cells[0]), [("!", None)]);
        match &row("register-none").cells[0] {
            TrendCell::Runs {
                throughput,
                ops_per_s,
                runs,
                ..
            } => {
                assert_eq!((throughput.as_str(), *ops_per_s), ("–", None));
                assert!(runs[0].title.contains("no leader"), "{}", runs[0].title);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            runs(&row("register-none").cells[1]),
            [("✓", Some("register-none/20260101T000001/index.html"))]
        );
        assert_eq!(
            row("register-partition").cells[0],
            TrendCell::Skipped {
                reason: "needs namespaces".into()
            }
        );
        assert_eq!(row("register-pause").cells[0], TrendCell::NotRun);
        // register-kill: two runs, the worst decides the class, mean ops/s;
        // a folder without a report links to the folder, a gone one nowhere.
        assert_eq!(row("register-kill").cells[0], TrendCell::Missing);
        match &row("register-kill").cells[1] {
            TrendCell::Runs {
                class,
                throughput,
                runs,
                ..
            } => {
                assert_eq!((*class, throughput.as_str()), ("invalid", "700"));
                assert_eq!(
                    runs[0].link.as_deref(),
                    Some("register-kill/20260101T000101/")
                );
                assert_eq!(runs[1].link, None);
            }
            other => panic!("{other:?}"),
        }

        // Only the newest `max_columns` are shown.
        let t = trend_table(s, &nightlies.summaries, 1);
        assert_eq!((t.columns.len(), t.omitted), (1, 1));
        assert!(t.rows.iter().all(|r| r.cells.len() == 1));
        assert!(!t.rows.iter().any(|r| r.name == "register-kill"));
    }

    #[test]
    fn no_nightlies_no_table() {
        let store = tempfile::tempdir().unwrap();
        let t = trend_table(store.path(), &[], TREND_COLUMNS);
        assert_eq!(t, TrendTable::default());
    }
}
