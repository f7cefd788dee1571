//! Parser for faultline's `history.jsonl` (one JSON object per line).

use serde_json::Value as Json;

use super::keys::Keys;
use super::malformed;
use crate::error::ParseError;
use crate::history::{Event, EventType, Func, Process, Value};

pub(crate) fn parse(text: &str, file: &str) -> Result<Vec<Event>, ParseError> {
    let mut keys = Keys::default();
    let mut events = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let json: Json = serde_json::from_str(raw)
            .map_err(|e| malformed(file, line, format!("a JSON object ({e})"), raw))?;
        let Json::Object(obj) = &json else {
            return Err(malformed(file, line, "a JSON object", raw));
        };
        let process = match obj.get("process") {
            Some(Json::Number(n)) if n.as_u64().is_some() => {
                Process::Client(n.as_u64().unwrap_or_default())
            }
            Some(Json::String(s)) if s == "nemesis" => Process::Nemesis,
            other => {
                return Err(malformed(
                    file,
                    line,
                    "\"process\": a number or \"nemesis\"",
                    show(other),
                ));
            }
        };
        let kind = match obj.get("type") {
            Some(Json::String(s)) => EventType::parse(s),
            _ => None,
        }
        .ok_or_else(|| {
            malformed(
                file,
                line,
                "\"type\": invoke, ok, fail or info",
                show(obj.get("type")),
            )
        })?;
        let f = match obj.get("f") {
            Some(Json::String(s)) => Func::parse(s),
            other => return Err(malformed(file, line, "\"f\": a string", show(other))),
        };
        let index = match obj.get("index") {
            None | Some(Json::Null) => events.len() as u64,
            Some(Json::Number(n)) if n.as_u64().is_some() => n.as_u64().unwrap_or_default(),
            other => {
                return Err(malformed(
                    file,
                    line,
                    "\"index\": a non-negative integer",
                    show(other),
                ));
            }
        };
        let time = match obj.get("time") {
            None | Some(Json::Null) => None,
            Some(Json::Number(n)) if n.as_u64().is_some() => n.as_u64(),
            other => {
                return Err(malformed(
                    file,
                    line,
                    "\"time\": nanoseconds as a non-negative integer",
                    show(other),
                ));
            }
        };
        let key = match obj.get("key") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(keys.intern(s)),
            Some(Json::Number(n)) => Some(keys.intern(&n.to_string())),
            other => {
                return Err(malformed(
                    file,
                    line,
                    "\"key\": a string or number",
                    show(other),
                ));
            }
        };
        // Nemesis values are free-form (objects, grudges): the checker skips them.
        let value = if process == Process::Nemesis {
            Value::Null
        } else {
            match obj.get("value") {
                None => Value::Null,
                Some(v) => to_value(v).ok_or_else(|| {
                    malformed(
                        file,
                        line,
                        "\"value\": null, an integer, a string or a list",
                        show(Some(v)),
                    )
                })?,
            }
        };
        let text_field = |name: &str| match obj.get(name) {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.as_str().into()),
            Some(other) => Some(other.to_string().into()),
        };
        events.push(Event {
            index,
            time,
            process,
            kind,
            f,
            key,
            value,
            node: text_field("node"),
            error: text_field("error"),
            line: line as u32,
        });
    }
    Ok(events)
}

fn show(v: Option<&Json>) -> String {
    match v {
        None => "nothing".to_string(),
        Some(v) => v.to_string(),
    }
}

fn to_value(v: &Json) -> Option<Value> {
    Some(match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Int(n.as_i64()?),
        Json::String(s) => Value::Str(s.as_str().into()),
        Json::Array(items) => Value::List(
            items
                .iter()
                .map(to_value)
                .collect::<Option<Vec<_>>>()?
                .into(),
        ),
        Json::Object(_) => return None,
    })
}
