//! `results.json` of a run, read through the store's schema
//! ([`crate::schema::RunResults`]) into what the report shows: the verdict,
//! counts, and each checker's outcome (with its counterexample, if any).

use std::path::Path;

use serde_json::Value;

use crate::error::Result;
use crate::schema::{RunResults, read_json};

/// The overall verdict of a run or a checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

impl From<faultline_checker::Verdict> for Verdict {
    fn from(v: faultline_checker::Verdict) -> Verdict {
        match v {
            faultline_checker::Verdict::Valid => Verdict::Valid,
            faultline_checker::Verdict::Invalid => Verdict::Invalid,
            faultline_checker::Verdict::Unknown => Verdict::Unknown,
        }
    }
}

/// One checker's result as shown in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckerView {
    pub name: String,
    pub verdict: Verdict,
    /// The checker's message (why invalid or unknown), else its summary.
    pub message: Option<String>,
    /// The whole result, pretty-printed.
    pub json: String,
    /// The counterexample, when the checker gave one.
    pub counterexample: Option<Value>,
}

/// What the report shows of `results.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsView {
    pub verdict: Verdict,
    /// `ops` counts as (ok, fail, info).
    pub ops: Option<(u64, u64, u64)>,
    /// `nemesis` counts as (name, value text).
    pub nemesis: Vec<(String, String)>,
    pub throughput: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub checkers: Vec<CheckerView>,
    /// The run was stopped early: a partial history.
    pub interrupted: bool,
    /// The record as read.
    pub record: RunResults,
}

/// Reads `results.json`.
pub fn read_results(path: &Path) -> Result<ResultsView> {
    Ok(results_from(read_json(path)?))
}

/// The report's view of a results record.
pub fn results_from(r: RunResults) -> ResultsView {
    let checkers = r
        .checkers
        .iter()
        .map(|(name, c)| CheckerView {
            name: name.clone(),
            verdict: c.verdict.into(),
            message: c
                .message
                .clone()
                .or_else(|| Some(c.summary.clone()).filter(|s| !s.is_empty())),
            json: serde_json::to_string_pretty(c).unwrap_or_default(),
            counterexample: c.counterexample.clone(),
        })
        .collect();
    let recorded = r.ops.ok + r.ops.fail + r.ops.info > 0 || !r.checkers.is_empty();
    ResultsView {
        verdict: r.verdict.into(),
        ops: recorded.then_some((r.ops.ok, r.ops.fail, r.ops.info)),
        nemesis: r
            .nemesis
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        throughput: recorded.then_some(r.throughput),
        latency_p50_ms: r.latency_ms.p50,
        latency_p99_ms: r.latency_ms.p99,
        checkers,
        interrupted: r.interrupted,
        record: r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view(v: Value) -> ResultsView {
        results_from(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn reads_the_contract_shape() {
        let r = view(json!({
            "verdict": "invalid",
            "ops": {"ok": 10, "fail": 2, "info": 1},
            "nemesis": {"kill": 3},
            "checkers": {"linearizable": {"verdict": "invalid", "summary": "kv model", "message": "key k1", "counterexample": {"key": "k1"}}},
            "throughput": 120.5,
            "latency_ms": {"p50": 1.5, "p99": 40.0}
        }));
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(r.ops, Some((10, 2, 1)));
        assert_eq!(r.nemesis, vec![("kill".to_string(), "3".to_string())]);
        assert_eq!(
            (r.latency_p50_ms, r.latency_p99_ms),
            (Some(1.5), Some(40.0))
        );
        let c = &r.checkers[0];
        assert_eq!(
            (c.name.as_str(), c.verdict),
            ("linearizable", Verdict::Invalid)
        );
        assert_eq!(c.message.as_deref(), Some("key k1"));
        assert_eq!(c.counterexample, Some(json!({"key": "k1"})));
        assert!(!r.interrupted);
        let partial = view(json!({"verdict": "valid", "interrupted": true}));
        assert!(partial.interrupted);
        assert_eq!(partial.ops, None);
    }

    #[test]
    fn the_verdict_is_required_and_every_field_is_typed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.json");
        for bad in [
            "{}",
            r#"{"verdict": "maybe"}"#,
            "[1]",
            r#"{"verdict": "valid", "checkers": 3}"#,
            r#"{"verdict": true}"#,
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = read_results(&path).unwrap_err().to_string();
            assert!(err.contains("results.json"), "{bad}: {err}");
        }
        let r = view(
            json!({"verdict": "unknown", "checkers": {"x": {"verdict": "unknown", "message": "budget"}}}),
        );
        assert_eq!(r.verdict, Verdict::Unknown);
        assert_eq!(r.checkers[0].message.as_deref(), Some("budget"));
        assert_eq!(r.checkers[0].counterexample, None);
    }
}
