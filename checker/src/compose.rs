//! Checkers that compose (Jepsen's `compose`): a [`Checker`] looks at a
//! history and gives a [`CheckerOutcome`] (a verdict, a one-line summary, an
//! optional counterexample and checker-specific details); [`compose`] runs
//! several and folds their verdicts (invalid over unknown over valid) into
//! one, keeping each result by name. `results.json` of a run is that map.
//!
//! Checkers here: [`Linearizable`] (the P-compositional search of
//! [`check`](crate::check)) and [`OpStats`] (counts per function; it can
//! only say "unknown" when nothing succeeded, since then nothing was
//! checked).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::check::{CheckOptions, CheckResult, Verdict, check};
use crate::error::CheckError;
use crate::history::{EventType, History, Process};
use crate::models::ModelKind;

impl Verdict {
    /// The worse of two verdicts: invalid over unknown over valid.
    pub fn merge(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Invalid, _) | (_, Verdict::Invalid) => Verdict::Invalid,
            (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
            _ => Verdict::Valid,
        }
    }
}

/// What one checker says of a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckerOutcome {
    pub verdict: Verdict,
    /// One line for people: what was checked and how it went.
    #[serde(default)]
    pub summary: String,
    /// Why the verdict is invalid or unknown, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The evidence of an invalid verdict, in the checker's own shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Value>,
    /// Checker-specific figures (counts, timings, per-partition results).
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

/// One way of judging a history.
pub trait Checker: Send + Sync {
    /// The key of its result in `results.json` (`linearizable`, `stats`).
    fn name(&self) -> &'static str;
    fn check(&self, history: &History) -> Result<CheckerOutcome, CheckError>;
}

/// Every checker's outcome by name, and the verdict of them all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Composed {
    pub verdict: Verdict,
    pub results: BTreeMap<String, CheckerOutcome>,
}

/// Run every checker on `history`. A checker that fails (bad history) gives
/// an unknown outcome saying why, never a valid one.
pub fn compose(checkers: &[Box<dyn Checker>], history: &History) -> Composed {
    let mut verdict = Verdict::Valid;
    let mut results = BTreeMap::new();
    for c in checkers {
        let outcome = c.check(history).unwrap_or_else(|e| CheckerOutcome {
            verdict: Verdict::Unknown,
            summary: format!("could not check: {e}"),
            message: Some(e.to_string()),
            counterexample: None,
            details: Map::new(),
        });
        verdict = verdict.merge(outcome.verdict);
        results.insert(c.name().to_string(), outcome);
    }
    if checkers.is_empty() {
        verdict = Verdict::Unknown;
    }
    Composed { verdict, results }
}

/// Linearizability against a sequential model (P-compositional by key).
pub struct Linearizable {
    pub model: ModelKind,
    pub options: CheckOptions,
}

impl Linearizable {
    pub fn new(model: ModelKind, timeout: Duration) -> Linearizable {
        Linearizable {
            model,
            options: CheckOptions {
                timeout: Some(timeout),
                ..CheckOptions::default()
            },
        }
    }

    /// The outcome of a finished check.
    pub fn outcome(result: &CheckResult) -> CheckerOutcome {
        let summary = format!(
            "{} model, {} ops in {} key partitions, {:.2} s",
            result.model.name(),
            result.ops,
            result.partitions,
            result.elapsed_s
        );
        let message = match result.verdict {
            Verdict::Valid => None,
            Verdict::Invalid => result.counterexample.as_ref().map(|c| c.message.clone()),
            Verdict::Unknown => Some(
                result
                    .reason
                    .clone()
                    .unwrap_or_else(|| "undecided".to_string()),
            ),
        };
        let mut details = match serde_json::to_value(result) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        details.remove("verdict");
        let counterexample = details.remove("counterexample").filter(|v| !v.is_null());
        CheckerOutcome {
            verdict: result.verdict,
            summary,
            message,
            counterexample,
            details,
        }
    }
}

impl Checker for Linearizable {
    fn name(&self) -> &'static str {
        "linearizable"
    }

    fn check(&self, history: &History) -> Result<CheckerOutcome, CheckError> {
        Ok(Linearizable::outcome(&check(
            history,
            self.model,
            &self.options,
        )?))
    }
}

/// Counts of completions per function (Jepsen's `stats`). Valid when some
/// operation succeeded; unknown when none did (then no other checker had
/// anything to judge either). A function that never succeeded is named in
/// the summary.
pub struct OpStats;

#[derive(Debug, Default, Clone, Copy, Serialize)]
struct FuncCounts {
    ok: u64,
    fail: u64,
    info: u64,
}

impl Checker for OpStats {
    fn name(&self) -> &'static str {
        "stats"
    }

    fn check(&self, history: &History) -> Result<CheckerOutcome, CheckError> {
        let mut by_f: BTreeMap<String, FuncCounts> = BTreeMap::new();
        for e in history
            .events
            .iter()
            .filter(|e| matches!(e.process, Process::Client(_)))
        {
            let c = by_f.entry(e.f.name().to_string()).or_default();
            match e.kind {
                EventType::Ok => c.ok += 1,
                EventType::Fail => c.fail += 1,
                EventType::Info => c.info += 1,
                EventType::Invoke => {}
            }
        }
        let ok: u64 = by_f.values().map(|c| c.ok).sum();
        let never: Vec<&str> = by_f
            .iter()
            .filter(|(_, c)| c.ok == 0)
            .map(|(f, _)| f.as_str())
            .collect();
        let mut summary = by_f
            .iter()
            .map(|(f, c)| format!("{f} {}/{}/{}", c.ok, c.fail, c.info))
            .collect::<Vec<_>>()
            .join(", ");
        summary = if summary.is_empty() {
            "no client operations".to_string()
        } else {
            format!("ok/fail/info per function: {summary}")
        };
        if !never.is_empty() && ok > 0 {
            summary += &format!("; never succeeded: {}", never.join(", "));
        }
        let mut details = Map::new();
        details.insert(
            "by_function".to_string(),
            serde_json::to_value(&by_f).unwrap_or(Value::Null),
        );
        Ok(CheckerOutcome {
            verdict: if ok > 0 {
                Verdict::Valid
            } else {
                Verdict::Unknown
            },
            message: (ok == 0).then(|| "no operation succeeded: nothing was checked".to_string()),
            summary,
            counterexample: None,
            details,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Format, parse_str};

    fn history(lines: &[&str]) -> History {
        parse_str(&lines.join("\n"), "test.jsonl", Some(Format::Jsonl))
            .unwrap()
            .0
    }

    const STALE: [&str; 6] = [
        r#"{"index":0,"time":1,"process":0,"type":"invoke","f":"put","key":"k","value":1}"#,
        r#"{"index":1,"time":2,"process":0,"type":"ok","f":"put","key":"k","value":1}"#,
        r#"{"index":2,"time":3,"process":1,"type":"invoke","f":"put","key":"k","value":2}"#,
        r#"{"index":3,"time":4,"process":1,"type":"ok","f":"put","key":"k","value":2}"#,
        r#"{"index":4,"time":5,"process":2,"type":"invoke","f":"get","key":"k","value":null}"#,
        r#"{"index":5,"time":6,"process":2,"type":"ok","f":"get","key":"k","value":1}"#,
    ];

    #[test]
    fn merge_puts_invalid_over_unknown_over_valid() {
        use Verdict::*;
        assert_eq!(Valid.merge(Valid), Valid);
        assert_eq!(Valid.merge(Unknown), Unknown);
        assert_eq!(Unknown.merge(Invalid), Invalid);
        assert_eq!(Invalid.merge(Valid), Invalid);
    }

    #[test]
    fn a_stale_read_is_invalid_and_every_result_is_kept_by_name() {
        let checkers: Vec<Box<dyn Checker>> = vec![
            Box::new(Linearizable::new(
                ModelKind::CasRegister,
                Duration::from_secs(10),
            )),
            Box::new(OpStats),
        ];
        let c = compose(&checkers, &history(&STALE));
        assert_eq!(c.verdict, Verdict::Invalid);
        let lin = &c.results["linearizable"];
        assert_eq!(lin.verdict, Verdict::Invalid);
        assert!(lin.counterexample.is_some());
        assert!(lin.message.as_deref().unwrap().contains('k'), "{lin:?}");
        assert_eq!(lin.details["ops"], 3);
        let stats = &c.results["stats"];
        assert_eq!(stats.verdict, Verdict::Valid);
        assert_eq!(stats.details["by_function"]["put"]["ok"], 2);
        // The shape results.json keeps: the verdict and evidence at the top.
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["results"]["linearizable"]["verdict"], "invalid");
        assert!(json["results"]["linearizable"]["counterexample"]["key"].is_string());
        let back: Composed = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn nothing_succeeded_or_nothing_to_run_is_unknown_not_valid() {
        let failed = history(&[
            r#"{"index":0,"time":1,"process":0,"type":"invoke","f":"put","key":"k","value":1}"#,
            r#"{"index":1,"time":2,"process":0,"type":"fail","f":"put","key":"k","value":1}"#,
        ]);
        let c = compose(&[Box::new(OpStats) as Box<dyn Checker>], &failed);
        assert_eq!(c.verdict, Verdict::Unknown);
        assert!(c.results["stats"].message.is_some());
        assert_eq!(compose(&[], &failed).verdict, Verdict::Unknown);
    }
}
