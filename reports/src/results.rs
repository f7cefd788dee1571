//! `results.json` of a run: the verdict, counts, and each checker's result
//! (with its counterexample, if any), read into what the report shows.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{ReportError, Result};

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

    /// Reads `"valid"`/`"invalid"`/`"unknown"` (any case) or a boolean.
    pub fn from_json(value: &Value) -> Option<Verdict> {
        match value {
            Value::Bool(true) => Some(Verdict::Valid),
            Value::Bool(false) => Some(Verdict::Invalid),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "valid" | "ok" | "pass" | "true" => Some(Verdict::Valid),
                "invalid" | "fail" | "false" => Some(Verdict::Invalid),
                "unknown" => Some(Verdict::Unknown),
                _ => None,
            },
            _ => None,
        }
    }
}

/// One checker's result as shown in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckerView {
    pub name: String,
    pub verdict: Verdict,
    /// The checker's message or reason, if it gave one.
    pub message: Option<String>,
    /// The whole result, pretty-printed.
    pub json: String,
    /// `counterexample` of the result, when present and not null.
    pub counterexample: Option<Value>,
}

/// What the report shows of `results.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResults {
    pub verdict: Verdict,
    /// `ops` counts as (ok, fail, info), when recorded.
    pub ops: Option<(u64, u64, u64)>,
    /// `nemesis` counts as (name, value text).
    pub nemesis: Vec<(String, String)>,
    pub throughput: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub checkers: Vec<CheckerView>,
    /// The run was stopped early (`"interrupted": true`): a partial history.
    pub interrupted: bool,
}

/// Reads `results.json`: an object with at least a `verdict`.
pub fn read_results(path: &Path) -> Result<RunResults> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    let value: Value = serde_json::from_str(&text).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        line: None,
        source,
    })?;
    results_from(&value).map_err(|message| ReportError::malformed(path, None, message))
}

/// Extracts the report's view of a parsed `results.json`.
pub fn results_from(value: &Value) -> std::result::Result<RunResults, String> {
    let map = value.as_object().ok_or("expected a JSON object")?;
    let verdict = map
        .get("verdict")
        .ok_or("no \"verdict\" field")
        .and_then(|v| {
            Verdict::from_json(v).ok_or("\"verdict\" is not one of valid, invalid, unknown")
        })?;
    let ops = map.get("ops").and_then(Value::as_object).map(|o| {
        let n = |k: &str| o.get(k).and_then(Value::as_u64).unwrap_or(0);
        (n("ok"), n("fail"), n("info"))
    });
    let nemesis = map
        .get("nemesis")
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), text(v))).collect())
        .unwrap_or_default();
    let latency = map.get("latency_ms").and_then(Value::as_object);
    let checkers = match map.get("checkers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(c)) => c.iter().map(|(name, r)| checker_view(name, r)).collect(),
        Some(_) => return Err("\"checkers\" is not an object".into()),
    };
    Ok(RunResults {
        verdict,
        ops,
        nemesis,
        throughput: map.get("throughput").and_then(Value::as_f64),
        latency_p50_ms: latency.and_then(|l| l.get("p50")).and_then(Value::as_f64),
        latency_p99_ms: latency.and_then(|l| l.get("p99")).and_then(Value::as_f64),
        checkers,
        interrupted: map.get("interrupted").and_then(Value::as_bool) == Some(true),
    })
}

fn checker_view(name: &str, result: &Value) -> CheckerView {
    let empty = Map::new();
    let obj = result.as_object().unwrap_or(&empty);
    let verdict = ["verdict", "valid", "result", "status"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Verdict::from_json))
        .or_else(|| Verdict::from_json(result))
        .unwrap_or(Verdict::Unknown);
    let message = ["message", "reason", "error"]
        .iter()
        .find_map(|k| obj.get(*k))
        .filter(|v| !v.is_null())
        .map(text);
    CheckerView {
        name: name.to_string(),
        verdict,
        message,
        json: serde_json::to_string_pretty(result).unwrap_or_default(),
        counterexample: obj.get("counterexample").filter(|v| !v.is_null()).cloned(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_contract_shape() {
        let v = json!({
            "verdict": "invalid",
            "ops": {"ok": 10, "fail": 2, "info": 1},
            "nemesis": {"kill": 3},
            "checkers": {"linearizable": {"valid": false, "message": "key k1", "counterexample": {"key": "k1"}}},
            "throughput": 120.5,
            "latency_ms": {"p50": 1.5, "p99": 40.0}
        });
        let r = results_from(&v).unwrap();
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
        let partial = results_from(&json!({"verdict": "valid", "interrupted": true})).unwrap();
        assert!(partial.interrupted);
    }

    #[test]
    fn verdict_is_required_and_checked() {
        assert!(results_from(&json!({})).unwrap_err().contains("verdict"));
        assert!(results_from(&json!({"verdict": "maybe"})).is_err());
        assert!(results_from(&json!([1])).is_err());
        assert!(results_from(&json!({"verdict": "valid", "checkers": 3})).is_err());
        let r = results_from(&json!({"verdict": "Unknown", "checkers": {"x": {"verdict": "unknown", "reason": "budget"}}})).unwrap();
        assert_eq!(r.verdict, Verdict::Unknown);
        assert_eq!(r.checkers[0].message.as_deref(), Some("budget"));
        assert_eq!(r.checkers[0].counterexample, None);
    }
}
