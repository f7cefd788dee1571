//! Nightly summaries: the file `faultline nightly` writes for each nightly
//! run, `store/nightly/<YYYYmmddTHHMMSS>.json`, its schema (one type shared by
//! the writer and the store index), atomic writing, and collecting every
//! summary of a store newest first, with a warning (never a panic) for a file
//! that cannot be read.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ReportError, Result};
use crate::timestamps::{STAMP_FORMAT, parse_rfc3339, parse_stamp};

/// The folder of nightly summaries inside a store.
pub const NIGHTLY_DIR: &str = "nightly";
/// The `format` field of a summary this version writes and reads.
pub const NIGHTLY_FORMAT: &str = "faultline-nightly-1";

/// How one run of a nightly ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    /// The history was checked and is linearizable.
    Valid,
    /// A violation was found.
    Invalid,
    /// The check could not decide, or the run was interrupted.
    Unknown,
    /// The run produced no results (it failed to start, crashed, ...).
    Error,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Valid => "valid",
            RunOutcome::Invalid => "invalid",
            RunOutcome::Unknown => "unknown",
            RunOutcome::Error => "error",
        }
    }

    /// Badness for "the worst of": invalid > error > unknown > valid.
    pub fn severity(self) -> u8 {
        match self {
            RunOutcome::Valid => 0,
            RunOutcome::Unknown => 1,
            RunOutcome::Error => 2,
            RunOutcome::Invalid => 3,
        }
    }

    /// One character for tables: ✓ ✗ ? !
    pub fn mark(self) -> &'static str {
        match self {
            RunOutcome::Valid => "✓",
            RunOutcome::Invalid => "✗",
            RunOutcome::Unknown => "?",
            RunOutcome::Error => "!",
        }
    }

    /// The CSS verdict class (`pill-valid`, `pill-invalid`, `pill-unknown`).
    pub fn class(self) -> &'static str {
        match self {
            RunOutcome::Valid => "valid",
            RunOutcome::Invalid => "invalid",
            RunOutcome::Unknown | RunOutcome::Error => "unknown",
        }
    }
}

/// Ok / fail / info operation counts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

/// One `faultline run` of a nightly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightlyRun {
    pub seed: u64,
    pub outcome: RunOutcome,
    /// The run was stopped by a signal (its results are partial).
    #[serde(default)]
    pub interrupted: bool,
    /// The run folder relative to the store (`<test>/<YYYYmmddTHHMMSS>`).
    #[serde(default)]
    pub run_dir: Option<String>,
    /// Exit code of the run (`None`: it did not exit normally).
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Successful operations per second of workload time.
    #[serde(default)]
    pub ops_per_s: Option<f64>,
    #[serde(default)]
    pub ops: Option<OpCounts>,
    /// Wall time of the whole run: start, workload, recovery, check, report.
    #[serde(default)]
    pub duration_s: f64,
    /// Why there is no verdict (for `error`) or what went wrong.
    #[serde(default)]
    pub error: Option<String>,
}

/// One configuration (workload × nemesis) of the matrix and its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightlyConfig {
    /// `<workload>-<nemesis>`, also the test name of its runs in the store.
    pub name: String,
    pub workload: String,
    /// The nemesis configuration: `none`, `kill`, `all`, `kill+pause`, ...
    pub nemesis: String,
    /// Why the configuration was not run (e.g. network faults on loopback).
    #[serde(default)]
    pub skipped: Option<String>,
    #[serde(default)]
    pub runs: Vec<NightlyRun>,
}

impl NightlyConfig {
    /// The worst outcome of its runs (`None` when none ran).
    pub fn worst(&self) -> Option<RunOutcome> {
        self.runs
            .iter()
            .map(|r| r.outcome)
            .max_by_key(|o| o.severity())
    }
}

/// The options a nightly ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightlyOptions {
    pub time_limit_s: u64,
    pub test_count: usize,
    /// The base seed every run's seed is derived from.
    pub seed: u64,
    #[serde(default)]
    pub bug: Option<String>,
    pub nemesis_interval_s: f64,
    /// Time budget of each run's check.
    #[serde(default)]
    pub check_timeout_s: Option<f64>,
    #[serde(default)]
    pub no_netns: bool,
    pub workloads: Vec<String>,
    pub nemesis: Vec<String>,
}

/// Counts over every run of a nightly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NightlyCounts {
    pub runs: usize,
    pub valid: usize,
    pub invalid: usize,
    pub unknown: usize,
    pub error: usize,
    /// Configurations skipped.
    pub skipped: usize,
}

impl NightlyCounts {
    /// `3 valid, 1 invalid, 2 skipped` (zero counts left out).
    pub fn text(&self) -> String {
        let parts: Vec<String> = [
            (self.valid, "valid"),
            (self.invalid, "invalid"),
            (self.unknown, "unknown"),
            (self.error, "error"),
            (self.skipped, "skipped"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            "no runs".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// The content of `store/nightly/<stamp>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightlySummary {
    /// [`NIGHTLY_FORMAT`].
    pub format: String,
    /// `YYYYmmddTHHMMSS` (UTC) of the start; also the file name.
    pub stamp: String,
    /// RFC 3339 start and end times.
    pub started: String,
    #[serde(default)]
    pub ended: Option<String>,
    #[serde(default)]
    pub duration_s: f64,
    /// Every configuration was run or skipped (false while running, or after
    /// an interruption).
    #[serde(default)]
    pub complete: bool,
    #[serde(default)]
    pub interrupted: bool,
    /// `netns` or `loopback`: where the nodes ran.
    #[serde(default)]
    pub mode: String,
    /// Why the nodes ran on loopback, when they did.
    #[serde(default)]
    pub mode_reason: Option<String>,
    pub options: NightlyOptions,
    pub configurations: Vec<NightlyConfig>,
    /// The nightly's exit code, once it has ended.
    #[serde(default)]
    pub exit_code: Option<u8>,
}

impl NightlySummary {
    /// A new, empty summary stamped with `started`.
    pub fn new(started: DateTime<Utc>, options: NightlyOptions) -> NightlySummary {
        NightlySummary {
            format: NIGHTLY_FORMAT.to_string(),
            stamp: started.format(STAMP_FORMAT).to_string(),
            started: started.to_rfc3339(),
            ended: None,
            duration_s: 0.0,
            complete: false,
            interrupted: false,
            mode: String::new(),
            mode_reason: None,
            options,
            configurations: Vec::new(),
            exit_code: None,
        }
    }

    /// When it started: `started`, else the stamp.
    pub fn start_time(&self) -> Option<DateTime<Utc>> {
        parse_rfc3339(&self.started).or_else(|| parse_stamp(&self.stamp))
    }

    pub fn counts(&self) -> NightlyCounts {
        let mut c = NightlyCounts::default();
        for config in &self.configurations {
            if config.skipped.is_some() {
                c.skipped += 1;
            }
            for run in &config.runs {
                c.runs += 1;
                match run.outcome {
                    RunOutcome::Valid => c.valid += 1,
                    RunOutcome::Invalid => c.invalid += 1,
                    RunOutcome::Unknown => c.unknown += 1,
                    RunOutcome::Error => c.error += 1,
                }
            }
        }
        c
    }

    /// The worst outcome over every run (`None` when nothing ran).
    pub fn worst(&self) -> Option<RunOutcome> {
        self.configurations
            .iter()
            .filter_map(NightlyConfig::worst)
            .max_by_key(|o| o.severity())
    }

    /// The file name of this summary: `<stamp>.json`.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.stamp)
    }
}

/// `store/nightly`.
pub fn nightly_dir(store: &Path) -> PathBuf {
    store.join(NIGHTLY_DIR)
}

fn to_json(summary: &NightlySummary, path: &Path) -> Result<String> {
    serde_json::to_string_pretty(summary)
        .map(|s| s + "\n")
        .map_err(|source| ReportError::Json {
            path: path.to_path_buf(),
            line: None,
            source,
        })
}

/// Writes a new summary file for `summary`, which must not exist yet: when a
/// nightly of the same second already took the stamp, waits for the next
/// second and restamps. Returns the file's path. Readers never see a half
/// written file (it is written aside and linked into place).
pub fn create_summary(store: &Path, summary: &mut NightlySummary) -> Result<PathBuf> {
    let dir = nightly_dir(store);
    std::fs::create_dir_all(&dir).map_err(|e| ReportError::io(&dir, e))?;
    loop {
        let path = dir.join(summary.file_name());
        let tmp = dir.join(format!(".{}.{}.tmp", summary.stamp, std::process::id()));
        std::fs::write(&tmp, to_json(summary, &path)?).map_err(|e| ReportError::io(&tmp, e))?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::thread::sleep(std::time::Duration::from_millis(200));
                let now = Utc::now();
                summary.stamp = now.format(STAMP_FORMAT).to_string();
                summary.started = now.to_rfc3339();
            }
            Err(e) => return Err(ReportError::io(&path, e)),
        }
    }
}

/// Replaces the summary file of `summary` atomically.
pub fn write_summary(store: &Path, summary: &NightlySummary) -> Result<PathBuf> {
    let dir = nightly_dir(store);
    std::fs::create_dir_all(&dir).map_err(|e| ReportError::io(&dir, e))?;
    let path = dir.join(summary.file_name());
    let tmp = dir.join(format!(".{}.{}.tmp", summary.stamp, std::process::id()));
    std::fs::write(&tmp, to_json(summary, &path)?).map_err(|e| ReportError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| ReportError::io(&path, e))?;
    Ok(path)
}

/// Reads one summary file; it must be JSON of this format.
pub fn read_summary(path: &Path) -> Result<NightlySummary> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| ReportError::Json {
            path: path.to_path_buf(),
            line: None,
            source,
        })?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(NIGHTLY_FORMAT) => {}
        Some(other) => {
            return Err(ReportError::malformed(
                path,
                None,
                format!(
                    "unsupported nightly summary format {other:?} (expected {NIGHTLY_FORMAT:?})"
                ),
            ));
        }
        None => {
            return Err(ReportError::malformed(
                path,
                None,
                format!("not a nightly summary: no \"format\": \"{NIGHTLY_FORMAT}\" field"),
            ));
        }
    }
    serde_json::from_value(value).map_err(|e| ReportError::malformed(path, None, e.to_string()))
}

/// A store's nightly summaries, newest first, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nightlies {
    /// (file name, summary), newest first.
    pub summaries: Vec<(String, NightlySummary)>,
    /// One message per unreadable summary file, naming it.
    pub warnings: Vec<String>,
}

/// Reads every `store/nightly/*.json` (hidden files and other extensions are
/// ignored). A file that does not parse is a warning naming it, not an
/// error; a missing `nightly` folder means no nightlies.
pub fn collect_nightlies(store: &Path) -> Nightlies {
    let dir = nightly_dir(store);
    let mut out = Nightlies::default();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return out,
        Err(e) => {
            out.warnings.push(ReportError::io(&dir, e).to_string());
            return out;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        match read_summary(&entry.path()) {
            Ok(summary) => out.summaries.push((name, summary)),
            Err(e) => {
                tracing::warn!(error = %e, "skipping a nightly summary");
                out.warnings.push(format!("nightly summary skipped: {e}"));
            }
        }
    }
    out.warnings.sort();
    out.summaries.sort_by(|(an, a), (bn, b)| {
        (b.start_time(), &b.stamp, bn).cmp(&(a.start_time(), &a.stamp, an))
    });
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn options() -> NightlyOptions {
        NightlyOptions {
            time_limit_s: 30,
            test_count: 1,
            seed: 7,
            bug: None,
            nemesis_interval_s: 5.0,
            check_timeout_s: Some(60.0),
            no_netns: false,
            workloads: vec!["register".into()],
            nemesis: vec!["none".into(), "kill".into()],
        }
    }

    pub fn run(outcome: RunOutcome, dir: &str, ops: f64) -> NightlyRun {
        NightlyRun {
            seed: 1,
            outcome,
            interrupted: false,
            run_dir: Some(dir.to_string()),
            exit_code: Some(0),
            ops_per_s: Some(ops),
            ops: Some(OpCounts {
                ok: 10,
                fail: 1,
                info: 0,
            }),
            duration_s: 12.5,
            error: None,
        }
    }

    pub fn config(name: &str, runs: Vec<NightlyRun>) -> NightlyConfig {
        let (workload, nemesis) = name.split_once('-').unwrap();
        NightlyConfig {
            name: name.into(),
            workload: workload.into(),
            nemesis: nemesis.into(),
            skipped: None,
            runs,
        }
    }

    pub fn summary(stamp: &str, configs: Vec<NightlyConfig>) -> NightlySummary {
        let t = parse_stamp(stamp).unwrap();
        let mut s = NightlySummary::new(t, options());
        s.configurations = configs;
        s.complete = true;
        s
    }

    #[test]
    fn round_trips_and_counts() {
        let store = tempfile::tempdir().unwrap();
        let mut s = summary(
            "20260101T010000",
            vec![
                config(
                    "register-none",
                    vec![
                        run(RunOutcome::Valid, "register-none/20260101T010001", 900.0),
                        run(RunOutcome::Invalid, "register-none/20260101T010101", 800.0),
                    ],
                ),
                NightlyConfig {
                    skipped: Some("loopback".into()),
                    ..config("register-partition", vec![])
                },
            ],
        );
        let path = create_summary(store.path(), &mut s).unwrap();
        assert_eq!(path.file_name().unwrap(), "20260101T010000.json");
        assert_eq!(read_summary(&path).unwrap(), s);
        let c = s.counts();
        assert_eq!((c.runs, c.valid, c.invalid, c.skipped), (2, 1, 1, 1));
        assert_eq!(c.text(), "1 valid, 1 invalid, 1 skipped");
        assert_eq!(s.worst(), Some(RunOutcome::Invalid));

        // The same stamp again: the second summary waits for a new second.
        let mut again = summary("20260101T010000", vec![]);
        let second = create_summary(store.path(), &mut again).unwrap();
        assert_ne!(second, path);
        assert_eq!(read_summary(&path).unwrap(), s, "the first is untouched");

        s.exit_code = Some(1);
        write_summary(store.path(), &s).unwrap();
        assert_eq!(read_summary(&path).unwrap().exit_code, Some(1));
        let leftovers: Vec<_> = std::fs::read_dir(nightly_dir(store.path()))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn collects_newest_first_and_warns_on_bad_files() {
        let store = tempfile::tempdir().unwrap();
        assert_eq!(collect_nightlies(store.path()), Nightlies::default());
        for stamp in ["20260102T000000", "20260301T000000", "20260201T000000"] {
            write_summary(store.path(), &summary(stamp, vec![])).unwrap();
        }
        let dir = nightly_dir(store.path());
        std::fs::write(
            dir.join("20260401T000000.json"),
            "{\"format\": \"faultline-nigh",
        )
        .unwrap();
        std::fs::write(dir.join("other.json"), r#"{"hello": 1}"#).unwrap();
        std::fs::write(
            dir.join("future.json"),
            r#"{"format": "faultline-nightly-9"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("shape.json"),
            r#"{"format": "faultline-nightly-1", "stamp": 5}"#,
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        std::fs::write(dir.join(".x.tmp.json"), "ignored").unwrap();
        let n = collect_nightlies(store.path());
        let stamps: Vec<_> = n.summaries.iter().map(|(_, s)| s.stamp.as_str()).collect();
        assert_eq!(
            stamps,
            ["20260301T000000", "20260201T000000", "20260102T000000"]
        );
        assert_eq!(n.warnings.len(), 4, "{:?}", n.warnings);
        for (w, needle) in n.warnings.iter().zip([
            "20260401T000000.json: malformed JSON",
            "future.json: unsupported nightly summary format",
            "other.json: not a nightly summary",
            "shape.json",
        ]) {
            assert!(w.contains(needle), "{w} should contain {needle}");
        }
    }
}
