//! The history as the report sees it: `history.jsonl` is parsed by
//! faultline-checker (one parser for the whole project) and each event is
//! adapted into a [`HistoryEvent`]. The checker drops nemesis values (they
//! are free-form and it does not need them); the report shows them, so they
//! are taken from the source line the checker points at.

use std::path::Path;

use faultline_checker::{Event, Format, parse_str};
use serde_json::Value;

use crate::error::{ReportError, Result};

/// Who issued an event: a numbered client process or the nemesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    Client(u64),
    Nemesis,
}

impl Process {
    /// The label shown in tables, CSV and the timeline.
    pub fn label(&self) -> String {
        match self {
            Process::Client(n) => n.to_string(),
            Process::Nemesis => "nemesis".to_string(),
        }
    }
}

/// The `type` of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl EventType {
    /// The name used in the history format.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Invoke => "invoke",
            EventType::Ok => "ok",
            EventType::Fail => "fail",
            EventType::Info => "info",
        }
    }
}

/// One event of the history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub index: u64,
    /// Nanoseconds since the run began.
    pub time_ns: u64,
    pub process: Process,
    pub kind: EventType,
    pub f: String,
    pub key: Option<String>,
    pub value: Value,
    pub node: Option<String>,
    pub error: Option<String>,
}

/// Reads `history.jsonl` with the checker's parser. Errors name the file
/// and line; every event must carry a `time`.
pub fn read_history(path: &Path) -> Result<Vec<HistoryEvent>> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    parse_history(&text, path)
}

/// Parses history text; `path` names it in errors.
pub fn parse_history(text: &str, path: &Path) -> Result<Vec<HistoryEvent>> {
    let (history, _) = parse_str(text, &path.display().to_string(), Some(Format::Jsonl))?;
    let lines: Vec<&str> = text.lines().collect();
    history
        .events
        .iter()
        .map(|e| from_checker(e, &lines, path))
        .collect()
}

/// Parses a single history line (handy in tests and tools).
pub fn parse_line(line: &str) -> Result<HistoryEvent> {
    let mut events = parse_history(line, Path::new("<line>"))?;
    events
        .pop()
        .ok_or_else(|| ReportError::malformed(Path::new("<line>"), None, "empty line"))
}

/// Adapts one checker event; `lines` is the source text by line, for the
/// nemesis values the checker does not keep.
fn from_checker(e: &Event, lines: &[&str], path: &Path) -> Result<HistoryEvent> {
    let line = e.line as usize;
    let time_ns = e
        .time
        .ok_or_else(|| ReportError::malformed(path, Some(line), "the event has no \"time\""))?;
    let (process, value) = match e.process {
        faultline_checker::Process::Client(p) => (
            Process::Client(p),
            serde_json::to_value(&e.value).unwrap_or(Value::Null),
        ),
        faultline_checker::Process::Nemesis => (Process::Nemesis, source_value(lines, line)),
    };
    let kind = match e.kind {
        faultline_checker::EventType::Invoke => EventType::Invoke,
        faultline_checker::EventType::Ok => EventType::Ok,
        faultline_checker::EventType::Fail => EventType::Fail,
        faultline_checker::EventType::Info => EventType::Info,
    };
    Ok(HistoryEvent {
        index: e.index,
        time_ns,
        process,
        kind,
        f: e.f.name().to_string(),
        key: e.key.as_deref().map(str::to_string),
        value,
        node: e.node.as_deref().map(str::to_string),
        error: e.error.as_deref().map(str::to_string),
    })
}

/// The `value` field of the JSON object on 1-based `line`, or null.
fn source_value(lines: &[&str], line: usize) -> Value {
    line.checked_sub(1)
        .and_then(|i| lines.get(i))
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .and_then(|mut v| v.get_mut("value").map(Value::take))
        .unwrap_or(Value::Null)
}

/// A JSON value as display text: strings without quotes, others as JSON.
pub fn value_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapts_client_and_nemesis_events() {
        let e = parse_line(
            r#"{"index":0,"time":1203344,"process":3,"type":"invoke","f":"cas","key":"k7","value":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(e.process, Process::Client(3));
        assert_eq!((e.kind, e.time_ns), (EventType::Invoke, 1203344));
        assert_eq!(e.key.as_deref(), Some("k7"));
        assert_eq!(e.value, serde_json::json!([1, 2]));
        let n = parse_line(
            r#"{"index":2,"time":9100000,"process":"nemesis","type":"invoke","f":"start-partition","value":{"grudge":"ring"}}"#,
        )
        .unwrap();
        assert_eq!(n.process, Process::Nemesis);
        assert_eq!((n.index, n.f.as_str()), (2, "start-partition"));
        assert_eq!(n.value, serde_json::json!({"grudge": "ring"}));
        assert_eq!(n.key, None);
    }

    #[test]
    fn rejects_bad_events_naming_file_and_line() {
        assert!(parse_line(r#"{"time":1,"process":1,"type":"done","f":"get"}"#).is_err());
        assert!(parse_line(r#"{"time":1,"process":-1,"type":"ok","f":"get"}"#).is_err());
        let no_time = parse_line(r#"{"process":1,"type":"ok","f":"get"}"#).unwrap_err();
        assert!(no_time.to_string().contains("time"), "{no_time}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        std::fs::write(
            &path,
            "{\"time\":1,\"process\":1,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\"}\n\n{oops\n",
        )
        .unwrap();
        let err = read_history(&path).unwrap_err().to_string();
        assert!(err.contains("history.jsonl:3"), "{err}");
        let missing = read_history(&dir.path().join("nope.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.jsonl"), "{missing}");
    }
}
