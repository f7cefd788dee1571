//! Parser for faultline's `history.jsonl` (one JSON object per line).

use serde_json::Value as Json;

use super::fields::Fields;
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
        let fields = Fields { file, line };
        let process = fields.required(
            obj.get("process"),
            "\"process\": a number or \"nemesis\"",
            |v| match v {
                Json::Number(n) => n.as_u64().map(Process::Client),
                Json::String(s) if s == "nemesis" => Some(Process::Nemesis),
                _ => None,
            },
        )?;
        let kind = fields.required(obj.get("type"), "\"type\": invoke, ok, fail or info", |v| {
            v.as_str().and_then(EventType::parse)
        })?;
        let f = fields.required(obj.get("f"), "\"f\": a string", |v| {
            v.as_str().map(Func::parse)
        })?;
        let index = fields
            .optional(
                obj.get("index"),
                "\"index\": a non-negative integer",
                Json::as_u64,
            )?
            .unwrap_or(events.len() as u64);
        let time = fields.optional(
            obj.get("time"),
            "\"time\": nanoseconds as a non-negative integer",
            Json::as_u64,
        )?;
        let key = fields.optional(obj.get("key"), "\"key\": a string or number", |v| match v {
            Json::String(s) => Some(keys.intern(s)),
            Json::Number(n) => Some(keys.intern(&n.to_string())),
            _ => None,
        })?;
        // Nemesis values are free-form (objects, grudges): the checker skips them.
        let value = if process == Process::Nemesis {
            Value::Null
        } else {
            fields
                .optional(
                    obj.get("value"),
                    "\"value\": null, an integer, a string or a list",
                    to_value,
                )?
                .unwrap_or(Value::Null)
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
