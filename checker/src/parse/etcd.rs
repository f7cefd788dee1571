//! Jepsen etcd logs as in Porcupine's test data:
//! `INFO  jepsen.util - <process>\t<:invoke|:ok|:fail|:info>\t<:read|:write|:cas>\t<value>`
//! (tabs or spaces). Lines without `jepsen.util -` are other log output and
//! are skipped. `:info ... :timed-out` and `:fail :read :timed-out` leave the
//! outcome unknown; the pairing step treats them so.

use super::edn::{Edn, EdnReader};
use super::malformed;
use crate::error::ParseError;
use crate::history::{Event, EventType, Func, Process, Value};

const MARKER: &str = "jepsen.util -";

pub(crate) fn parse(text: &str, file: &str) -> Result<Vec<Event>, ParseError> {
    let mut events = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let Some(at) = raw.find(MARKER) else { continue };
        let rest = &raw[at + MARKER.len()..];
        let mut fields = rest.split_whitespace();
        let expected = "`<process> <:type> <:f> <value>` after `jepsen.util -`";
        let (Some(proc_s), Some(type_s), Some(f_s)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(malformed(file, line, expected, raw));
        };
        let process = match proc_s {
            ":nemesis" => Process::Nemesis,
            p => Process::Client(
                p.parse()
                    .map_err(|_| malformed(file, line, "a process number", p))?,
            ),
        };
        let kind = type_s
            .strip_prefix(':')
            .and_then(EventType::parse)
            .ok_or_else(|| malformed(file, line, ":invoke, :ok, :fail or :info", type_s))?;
        let f = Func::parse(
            f_s.strip_prefix(':')
                .ok_or_else(|| malformed(file, line, "a keyword like :read", f_s))?,
        );
        let value_text: Vec<&str> = fields.collect();
        let value_text = value_text.join(" ");
        let value = if process == Process::Nemesis {
            Value::Null
        } else {
            parse_value(&value_text).ok_or_else(|| {
                malformed(
                    file,
                    line,
                    "a value: nil, an integer, [a b] or :timed-out",
                    &value_text,
                )
            })?
        };
        events.push(Event {
            index: events.len() as u64,
            time: None,
            process,
            kind,
            f,
            key: None,
            value,
            node: None,
            error: None,
            line: line as u32,
        });
    }
    Ok(events)
}

fn parse_value(text: &str) -> Option<Value> {
    if text.is_empty() {
        return Some(Value::Null);
    }
    let mut reader = EdnReader::new(text);
    let (form, _) = reader.next_form().ok()??;
    if reader.next_form().ok()?.is_some() {
        return None;
    }
    convert(&form)
}

fn convert(e: &Edn) -> Option<Value> {
    Some(match e {
        Edn::Nil => Value::Null,
        Edn::Int(i) => Value::Int(*i),
        Edn::Str(s) => Value::Str(s.as_str().into()),
        // `:timed-out` and similar: an outcome, not a value.
        Edn::Keyword(_) => Value::Null,
        Edn::Vector(items) => Value::List(
            items
                .iter()
                .map(convert)
                .collect::<Option<Vec<_>>>()?
                .into(),
        ),
        _ => return None,
    })
}
