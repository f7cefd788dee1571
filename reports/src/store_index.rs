//! The store's index: `store/index.html` lists every run (newest first,
//! sortable), shows the nightly trend table (`trend`) above it when the
//! store has nightly summaries, and `store/latest` links to the newest run
//! folder.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Serialize;

use crate::error::{ReportError, Result};
use crate::nightly::{NIGHTLY_DIR, collect_nightlies};
use crate::results::{Verdict, read_results};
use crate::run_data::{HISTORY_JSONL, INDEX_HTML, RESULTS_JSON, TEST_JSON};
use crate::templates::{self, trusted};
use crate::test_info::read_test_info;
use crate::timestamps::{display, display_duration, parse_stamp};
use crate::trend::{TREND_COLUMNS, TrendTable, trend_table};

/// Name of the link to the newest run.
pub const LATEST: &str = "latest";

/// One run as the store index lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// `<test>/<run>` relative to the store.
    pub rel: String,
    pub test: String,
    /// The run folder's name.
    pub name: String,
    pub time: Option<DateTime<Utc>>,
    /// `None` when results.json is missing or unreadable (see `problem`).
    pub verdict: Option<Verdict>,
    pub problem: Option<String>,
    pub ops: Option<u64>,
    pub faults: String,
    pub duration_s: Option<f64>,
    pub has_report: bool,
}

/// What `rebuild_store_index` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreIndex {
    pub index_html: PathBuf,
    /// Runs, newest first.
    pub runs: Vec<RunSummary>,
    /// The run `store/latest` points to, if any.
    pub latest: Option<String>,
    /// The nightly trend table (empty when the store has no nightlies).
    pub trend: TrendTable,
    /// Problems shown on the page (e.g. an unreadable nightly summary).
    pub warnings: Vec<String>,
}

/// Finds every run folder (`<store>/<test>/<run>/` holding a test.json,
/// results.json or history.jsonl) and summarizes it, newest first. A run
/// whose files are unreadable is listed with the problem, not skipped.
pub fn find_runs(store: &Path) -> Result<Vec<RunSummary>> {
    let mut runs = Vec::new();
    for test_dir in sorted_dirs(store)? {
        let test = file_name(&test_dir);
        if test == LATEST || test == NIGHTLY_DIR || test.starts_with('.') {
            continue;
        }
        for run_dir in sorted_dirs(&test_dir)? {
            let is_run = [TEST_JSON, RESULTS_JSON, HISTORY_JSONL]
                .iter()
                .any(|f| run_dir.join(f).is_file());
            if is_run {
                runs.push(summarize(&test, &run_dir));
            }
        }
    }
    runs.sort_by(|a, b| (b.time, &b.rel).cmp(&(a.time, &a.rel)));
    Ok(runs)
}

fn summarize(test: &str, dir: &Path) -> RunSummary {
    let name = file_name(dir);
    let mut problems = Vec::new();
    let info = read_test_info(&dir.join(TEST_JSON))
        .map_err(|e| problems.push(e.to_string()))
        .ok();
    let results = read_results(&dir.join(RESULTS_JSON))
        .map_err(|e| problems.push(e.to_string()))
        .ok();
    let start = info.as_ref().and_then(|i| i.start);
    let end = info.as_ref().and_then(|i| i.end);
    let faults = results
        .as_ref()
        .map(|r| {
            r.nemesis
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "none".to_string());
    RunSummary {
        rel: format!("{test}/{name}"),
        test: info
            .as_ref()
            .and_then(|i| i.name.clone())
            .unwrap_or_else(|| test.to_string()),
        time: start.or_else(|| parse_stamp(&name)),
        verdict: results.as_ref().map(|r| r.verdict),
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
        ops: results
            .as_ref()
            .and_then(|r| r.ops)
            .map(|(a, b, c)| a + b + c),
        faults,
        duration_s: match (start, end) {
            (Some(s), Some(e)) if e >= s => Some((e - s).num_milliseconds() as f64 / 1000.0),
            _ => None,
        },
        has_report: dir.join(INDEX_HTML).is_file(),
        name,
    }
}

#[derive(Serialize)]
struct Row {
    time: String,
    time_key: i64,
    test: String,
    name: String,
    verdict: &'static str,
    verdict_class: &'static str,
    problem: Option<String>,
    ops: String,
    ops_key: i64,
    faults: String,
    duration: String,
    duration_key: f64,
    link: String,
}

fn row(run: &RunSummary) -> Row {
    let (verdict, class) = match run.verdict {
        Some(v) => (v.as_str(), v.as_str()),
        None => ("unreadable", "unknown"),
    };
    Row {
        time: run.time.as_ref().map(display).unwrap_or_else(|| "?".into()),
        time_key: run.time.map(|t| t.timestamp_millis()).unwrap_or(i64::MIN),
        test: run.test.clone(),
        name: run.name.clone(),
        verdict,
        verdict_class: class,
        problem: run.problem.clone(),
        ops: run.ops.map(|o| o.to_string()).unwrap_or_else(|| "?".into()),
        ops_key: run.ops.map(|o| o as i64).unwrap_or(-1),
        faults: run.faults.clone(),
        duration: run
            .duration_s
            .map(display_duration)
            .unwrap_or_else(|| "?".into()),
        duration_key: run.duration_s.unwrap_or(-1.0),
        link: if run.has_report {
            format!("{}/{INDEX_HTML}", run.rel)
        } else {
            format!("{}/", run.rel)
        },
    }
}

/// Rewrites `store/index.html` from the run folders and points
/// `store/latest` at the newest run.
pub fn rebuild_store_index(store: &Path) -> Result<StoreIndex> {
    let runs = find_runs(store)?;
    let latest = runs.first().map(|r| r.rel.clone());
    if let Some(target) = &latest {
        point_latest(store, target)?;
    }
    let nightlies = collect_nightlies(store);
    let trend = trend_table(store, &nightlies.summaries, TREND_COLUMNS);
    let html = templates::render(
        templates::STORE_INDEX,
        context! {
            title => "faultline runs",
            store => store.display().to_string(),
            generated => display(&Utc::now()),
            latest => latest.as_ref().map(|_| format!("{LATEST}/{INDEX_HTML}")),
            runs => runs.iter().map(row).collect::<Vec<_>>(),
            trend => &trend,
            warnings => &nightlies.warnings,
            css => trusted(templates::CSS),
            errors_js => trusted(templates::ERRORS_JS),
            js => trusted(templates::STORE_INDEX_JS),
        },
    )?;
    let index_html = store.join(INDEX_HTML);
    std::fs::write(&index_html, html).map_err(|e| ReportError::io(&index_html, e))?;
    Ok(StoreIndex {
        index_html,
        runs,
        latest,
        trend,
        warnings: nightlies.warnings,
    })
}

/// Replaces `store/latest` with a relative symlink to `target`, atomically.
/// A real file or folder named `latest` is left alone.
fn point_latest(store: &Path, target: &str) -> Result<()> {
    let link = store.join(LATEST);
    if let Ok(meta) = std::fs::symlink_metadata(&link)
        && !meta.file_type().is_symlink()
    {
        tracing::warn!(path = %link.display(), "not a symlink; store/latest left alone");
        return Ok(());
    }
    let tmp = store.join(format!(".{LATEST}.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    symlink(target, &tmp).map_err(|e| ReportError::io(&tmp, e))?;
    std::fs::rename(&tmp, &link).map_err(|e| ReportError::io(&link, e))
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &str, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("store/latest needs symlinks (unix)"))
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| ReportError::io(dir, e))? {
        let entry = entry.map_err(|e| ReportError::io(dir, e))?;
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(store: &Path, test: &str, stamp: &str, results: &str) {
        let dir = store.join(test).join(stamp);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(TEST_JSON), r#"{"seed": 1}"#).unwrap();
        std::fs::write(dir.join(RESULTS_JSON), results).unwrap();
    }

    #[test]
    fn lists_runs_newest_first_and_links_latest() {
        let store = tempfile::tempdir().unwrap();
        let s = store.path();
        run(
            s,
            "register",
            "20240501T120000",
            r#"{"verdict":"valid","ops":{"ok":5,"fail":1,"info":0},"nemesis":{"kill":2}}"#,
        );
        run(s, "append", "20240502T080000", r#"{"verdict":"invalid"}"#);
        run(s, "register", "20240503T090000", "{broken");
        std::fs::create_dir_all(s.join("register/not-a-run")).unwrap();
        let index = rebuild_store_index(s).unwrap();
        let rels: Vec<_> = index.runs.iter().map(|r| r.rel.as_str()).collect();
        assert_eq!(
            rels,
            vec![
                "register/20240503T090000",
                "append/20240502T080000",
                "register/20240501T120000"
            ]
        );
        assert_eq!(index.runs[0].verdict, None);
        assert!(
            index.runs[0]
                .problem
                .as_deref()
                .unwrap()
                .contains("results.json")
        );
        assert_eq!(index.runs[2].ops, Some(6));
        assert_eq!(index.runs[2].faults, "kill 2");
        let link = std::fs::read_link(s.join(LATEST)).unwrap();
        assert_eq!(link, Path::new("register/20240503T090000"));
        let html = std::fs::read_to_string(s.join(INDEX_HTML)).unwrap();
        // minijinja escapes `/` as `&#x2f;`, which browsers decode in attributes.
        assert!(
            html.contains("append&#x2f;20240502T080000&#x2f;\""),
            "{html}"
        );
        assert!(html.contains("unreadable"));

        // A newer run moves the link; the index is rebuilt, not appended to.
        run(s, "append", "20240601T000000", r#"{"verdict":"unknown"}"#);
        let index = rebuild_store_index(s).unwrap();
        assert_eq!(index.runs.len(), 4);
        assert_eq!(
            std::fs::read_link(s.join(LATEST)).unwrap(),
            Path::new("append/20240601T000000")
        );
    }

    #[test]
    fn trend_table_and_a_corrupt_nightly_summary() {
        use crate::nightly::tests::{config, run as nightly_run, summary};
        use crate::nightly::{RunOutcome, nightly_dir, write_summary};
        let store = tempfile::tempdir().unwrap();
        let s = store.path();
        run(
            s,
            "register-kill",
            "20240501T120000",
            r#"{"verdict":"valid"}"#,
        );
        std::fs::write(s.join("register-kill/20240501T120000").join(INDEX_HTML), "").unwrap();
        write_summary(
            s,
            &summary(
                "20240501T115900",
                vec![
                    config(
                        "register-kill",
                        vec![nightly_run(
                            RunOutcome::Valid,
                            "register-kill/20240501T120000",
                            812.4,
                        )],
                    ),
                    config("register-none", vec![]),
                ],
            ),
        )
        .unwrap();
        std::fs::write(nightly_dir(s).join("20240601T000000.json"), "{ not json").unwrap();
        let index = rebuild_store_index(s).unwrap();
        assert_eq!(index.runs.len(), 1, "the nightly folder holds no runs");
        assert_eq!(index.trend.columns.len(), 1);
        assert_eq!(index.trend.rows.len(), 2);
        assert_eq!(index.warnings.len(), 1);
        assert!(index.warnings[0].contains("20240601T000000.json"));
        let html = std::fs::read_to_string(&index.index_html).unwrap();
        assert!(html.contains("Nightly trend") && html.contains("id=\"trend-table\""));
        assert!(
            html.contains("data-config=\"register-kill\"") && html.contains("812 ops/s"),
            "{html}"
        );
        assert!(html.contains("register-kill&#x2f;20240501T120000&#x2f;index.html"));
        assert!(html.contains("not run"));
        assert!(html.contains("Warnings") && html.contains("20240601T000000.json"));

        // Without nightlies there is no trend section.
        std::fs::remove_dir_all(nightly_dir(s)).unwrap();
        let html = std::fs::read_to_string(rebuild_store_index(s).unwrap().index_html).unwrap();
        assert!(!html.contains("trend-table") && !html.contains("Warnings"));
    }

    #[test]
    fn empty_store_and_missing_store() {
        let store = tempfile::tempdir().unwrap();
        let index = rebuild_store_index(store.path()).unwrap();
        assert!(index.runs.is_empty() && index.latest.is_none());
        assert!(
            std::fs::read_to_string(&index.index_html)
                .unwrap()
                .contains("no runs yet")
        );
        let missing = store.path().join("nope");
        assert!(
            rebuild_store_index(&missing)
                .unwrap_err()
                .to_string()
                .contains("nope")
        );
    }
}
