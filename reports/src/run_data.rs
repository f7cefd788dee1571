//! A run folder loaded into memory: test.json, results.json, the history
//! and the views derived from it (operations, faults), and the node logs.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::faults::{FaultInterval, fault_intervals, fault_kinds};
use crate::history::{HistoryEvent, read_history};
use crate::node_logs::{NodeLogs, read_node_logs};
use crate::ops::{OpView, pair_operations};
use crate::palette::FaultColours;
use crate::results::{ResultsView, read_results};
use crate::test_info::{TestInfo, read_test_info};

/// File names of a run folder (DESIGN.md, "Store").
pub const TEST_JSON: &str = "test.json";
pub const HISTORY_JSONL: &str = "history.jsonl";
pub const RESULTS_JSON: &str = "results.json";
pub const NODES_DIR: &str = "nodes";
pub const INDEX_HTML: &str = "index.html";

/// Everything a report is made from.
#[derive(Debug, Clone)]
pub struct RunData {
    pub dir: PathBuf,
    pub test: TestInfo,
    pub results: ResultsView,
    pub events: Vec<HistoryEvent>,
    pub ops: Vec<OpView>,
    pub faults: Vec<FaultInterval>,
    /// Distinct fault kinds in order of appearance.
    pub fault_kinds: Vec<String>,
    /// The colour of each fault kind (test.json's, else the defaults).
    pub fault_colours: FaultColours,
    /// Distinct operation functions, `get put append cas` first.
    pub fs: Vec<String>,
    /// Time of the last event, ns since the run began.
    pub end_ns: u64,
    pub logs: NodeLogs,
}

impl RunData {
    /// Loads a run folder. `test.json`, `results.json` and `history.jsonl`
    /// are required; `nodes/` is optional.
    pub fn load(dir: &Path) -> Result<RunData> {
        let test = read_test_info(&dir.join(TEST_JSON))?;
        let results = read_results(&dir.join(RESULTS_JSON))?;
        let events = read_history(&dir.join(HISTORY_JSONL))?;
        let logs = read_node_logs(&dir.join(NODES_DIR))?;
        let end_ns = events.iter().map(|e| e.time_ns).max().unwrap_or(0);
        let ops = pair_operations(&events);
        let faults = fault_intervals(&events, end_ns);
        let fault_kinds = fault_kinds(&faults);
        let fault_colours = FaultColours::new(&fault_kinds, &test.nemesis_packages);
        let fs = distinct_fs(&ops);
        Ok(RunData {
            dir: dir.to_path_buf(),
            test,
            results,
            events,
            ops,
            faults,
            fault_kinds,
            fault_colours,
            fs,
            end_ns,
            logs,
        })
    }

    /// The test's name: from test.json, else the run folder's parent name.
    pub fn test_name(&self) -> String {
        self.test.name.clone().unwrap_or_else(|| {
            self.dir
                .canonicalize()
                .ok()
                .and_then(|d| {
                    d.parent()
                        .and_then(|p| p.file_name())
                        .map(|n| n.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "test".to_string())
        })
    }
}

/// Distinct `f`s of the operations: the standard ones in a fixed order,
/// then the others alphabetically, so colours stay stable across runs.
pub fn distinct_fs(ops: &[OpView]) -> Vec<String> {
    const ORDER: [&str; 4] = ["get", "put", "append", "cas"];
    let mut fs: Vec<String> = ops.iter().map(|o| o.f.clone()).collect();
    fs.sort_by_key(|f| {
        (
            ORDER.iter().position(|o| o == f).unwrap_or(ORDER.len()),
            f.clone(),
        )
    });
    fs.dedup();
    fs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Outcome;

    #[test]
    fn standard_fs_come_first() {
        let op = |f: &str| OpView {
            index: 0,
            process: 0,
            f: f.into(),
            key: None,
            value: String::new(),
            outcome: Outcome::Ok,
            start_ns: 0,
            end_ns: None,
            node: None,
            error: None,
        };
        let ops = vec![op("zap"), op("cas"), op("get"), op("abc"), op("get")];
        assert_eq!(distinct_fs(&ops), vec!["get", "cas", "abc", "zap"]);
    }

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = RunData::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("test.json"), "{err}");
        std::fs::write(dir.path().join(TEST_JSON), "{}").unwrap();
        let err = RunData::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("results.json"), "{err}");
        std::fs::write(dir.path().join(RESULTS_JSON), r#"{"verdict":"valid"}"#).unwrap();
        let err = RunData::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("history.jsonl"), "{err}");
        std::fs::write(dir.path().join(HISTORY_JSONL), "").unwrap();
        let run = RunData::load(dir.path()).unwrap();
        assert!(run.ops.is_empty() && run.logs.lines.is_empty());
    }
}
