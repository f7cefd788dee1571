//! Reading `history.jsonl` (DESIGN.md, "History") into [`HistoryEvent`]s: the
//! raw, line-by-line events that the operation and fault views are built from.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{ReportError, Result};

/// Who issued an event: a numbered client process or the nemesis.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    Client(u64),
    Nemesis,
    /// Any other named process; kept so unknown producers still show up.
    Named(String),
}

impl Process {
    /// The label shown in tables, CSV and the timeline.
    pub fn label(&self) -> String {
        match self {
            Process::Client(n) => n.to_string(),
            Process::Nemesis => "nemesis".to_string(),
            Process::Named(name) => name.clone(),
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

/// One line of `history.jsonl`.
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

#[derive(Deserialize)]
struct RawEvent {
    index: Option<u64>,
    time: u64,
    process: Value,
    #[serde(rename = "type")]
    kind: String,
    f: String,
    #[serde(default)]
    key: Option<Value>,
    #[serde(default)]
    value: Value,
    #[serde(default)]
    node: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

/// Reads and parses a `history.jsonl` file. Blank lines are skipped; events
/// without an `index` get their position in the file.
pub fn read_history(path: &Path) -> Result<Vec<HistoryEvent>> {
    let file = std::fs::File::open(path).map_err(|e| ReportError::io(path, e))?;
    let mut events = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| ReportError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let event = parse_event(&line, events.len() as u64).map_err(|err| match err {
            ParseError::Json(source) => ReportError::Json {
                path: path.to_path_buf(),
                line: Some(i + 1),
                source,
            },
            ParseError::Shape(message) => ReportError::malformed(path, Some(i + 1), message),
        })?;
        events.push(event);
    }
    Ok(events)
}

/// Why one line did not parse.
#[derive(Debug)]
pub enum ParseError {
    Json(serde_json::Error),
    Shape(String),
}

/// Parses one history line; `position` is used when the line has no index.
pub fn parse_event(line: &str, position: u64) -> std::result::Result<HistoryEvent, ParseError> {
    let raw: RawEvent = serde_json::from_str(line).map_err(ParseError::Json)?;
    let process = match raw.process {
        Value::Number(n) => Process::Client(n.as_u64().ok_or_else(|| {
            ParseError::Shape(format!("process {n} is not a non-negative integer"))
        })?),
        Value::String(s) if s == "nemesis" => Process::Nemesis,
        Value::String(s) => Process::Named(s),
        other => {
            return Err(ParseError::Shape(format!(
                "process {other} is neither a number nor a name"
            )));
        }
    };
    let kind = match raw.kind.as_str() {
        "invoke" => EventType::Invoke,
        "ok" => EventType::Ok,
        "fail" => EventType::Fail,
        "info" => EventType::Info,
        other => {
            return Err(ParseError::Shape(format!(
                "type {other:?} is not one of invoke, ok, fail, info"
            )));
        }
    };
    Ok(HistoryEvent {
        index: raw.index.unwrap_or(position),
        time_ns: raw.time,
        process,
        kind,
        f: raw.f,
        key: raw.key.map(value_text),
        value: raw.value,
        node: raw.node.map(value_text),
        error: raw.error.map(value_text),
    })
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
    fn parses_client_and_nemesis_lines() {
        let e = parse_event(
            r#"{"index":0,"time":1203344,"process":3,"type":"invoke","f":"cas","key":"k7","value":[1,2]}"#,
            0,
        )
        .unwrap();
        assert_eq!(e.process, Process::Client(3));
        assert_eq!(e.kind, EventType::Invoke);
        assert_eq!(e.key.as_deref(), Some("k7"));
        let n = parse_event(
            r#"{"index":2,"time":9100000,"process":"nemesis","type":"invoke","f":"start-partition","value":{"grudge":"ring"}}"#,
            5,
        )
        .unwrap();
        assert_eq!(n.process, Process::Nemesis);
        assert_eq!(n.index, 2);
        assert_eq!(n.key, None);
    }

    #[test]
    fn rejects_unknown_type_and_bad_process() {
        assert!(matches!(
            parse_event(r#"{"time":1,"process":1,"type":"done","f":"get"}"#, 0),
            Err(ParseError::Shape(_))
        ));
        assert!(matches!(
            parse_event(r#"{"time":1,"process":-1,"type":"ok","f":"get"}"#, 0),
            Err(ParseError::Shape(_))
        ));
        assert!(matches!(
            parse_event("{not json", 0),
            Err(ParseError::Json(_))
        ));
    }

    #[test]
    fn read_history_names_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        std::fs::write(
            &path,
            "{\"time\":1,\"process\":1,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\"}\n\n{oops\n",
        )
        .unwrap();
        let err = read_history(&path).unwrap_err().to_string();
        assert!(err.contains("history.jsonl:3"), "{err}");
    }
}
