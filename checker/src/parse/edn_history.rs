//! EDN histories: Porcupine's KV format (one map per line with `:key`) and
//! Jepsen's `history.edn` (maps with `:process :type :f :value`, optional
//! `:time :index :key`, or independent `[k v]` tuples as values).

use super::edn::{Edn, EdnReader};
use super::fields::Fields;
use super::keys::Keys;
use super::malformed;
use crate::error::ParseError;
use crate::history::{Event, EventType, Func, Process, Value};

pub(crate) fn parse(text: &str, file: &str) -> Result<Vec<Event>, ParseError> {
    let mut reader = EdnReader::new(text);
    let mut forms = Vec::new();
    loop {
        match reader.next_form() {
            Ok(Some((Edn::Vector(items) | Edn::List(items), line)))
                if items.iter().all(|i| matches!(i, Edn::Map(_))) =>
            {
                forms.extend(items.into_iter().map(|m| (m, line)));
            }
            Ok(Some((form, line))) => forms.push((form, line)),
            Ok(None) => break,
            Err(e) => return Err(malformed(file, e.line, e.expected, e.found)),
        }
    }
    let independent = is_independent(&forms);
    let mut keys = Keys::default();
    let mut events = Vec::with_capacity(forms.len());
    for (form, line) in &forms {
        let line = *line;
        if !matches!(form, Edn::Map(_)) {
            return Err(malformed(
                file,
                line,
                "an EDN map {:process .. :type .. :f ..}",
                form.describe(),
            ));
        }
        let fields = Fields { file, line };
        let process = fields.required(
            form.get("process"),
            ":process a non-negative integer or :nemesis",
            |v| match v {
                Edn::Int(p) if *p >= 0 => Some(Process::Client(*p as u64)),
                Edn::Keyword(k) if k == "nemesis" => Some(Process::Nemesis),
                _ => None,
            },
        )?;
        let kind = fields.required(
            form.get("type"),
            ":type :invoke, :ok, :fail or :info",
            |v| match v {
                Edn::Keyword(k) => EventType::parse(k),
                _ => None,
            },
        )?;
        let f = fields.required(form.get("f"), ":f a keyword", |v| match v {
            Edn::Keyword(k) | Edn::Symbol(k) | Edn::Str(k) => Some(Func::parse(k)),
            _ => None,
        })?;
        let time = fields.optional(
            form.get("time"),
            ":time a non-negative integer",
            |v| match v {
                Edn::Int(t) if *t >= 0 => Some(*t as u64),
                _ => None,
            },
        )?;
        let index = match form.get("index") {
            Some(Edn::Int(i)) if *i >= 0 => *i as u64,
            _ => events.len() as u64,
        };
        let raw_value = form.get("value").unwrap_or(&Edn::Nil);
        let mut key =
            fields.optional(form.get("key"), ":key a string, integer or keyword", |k| {
                key_text(k).map(|t| keys.intern(&t))
            })?;
        let value = if process == Process::Nemesis {
            Value::Null
        } else {
            let v = if independent && key.is_none() {
                let Edn::Vector(pair) = raw_value else {
                    return Err(malformed(
                        file,
                        line,
                        ":value an independent [key value] tuple",
                        raw_value.describe(),
                    ));
                };
                let k = key_text(&pair[0]).ok_or_else(|| {
                    malformed(
                        file,
                        line,
                        "a key (string, integer or keyword) in the [key value] tuple",
                        pair[0].describe(),
                    )
                })?;
                key = Some(keys.intern(&k));
                &pair[1]
            } else {
                raw_value
            };
            fields.required(
                Some(v),
                ":value nil, an integer, a string or a vector",
                to_value,
            )?
        };
        let text = |name: &str| {
            form.get(name).map(|e| match e {
                Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => s.as_str().into(),
                other => other.describe().into(),
            })
        };
        events.push(Event {
            index,
            time,
            process,
            kind,
            f,
            key,
            value,
            node: text("node"),
            error: text("error"),
            line: line as u32,
        });
    }
    Ok(events)
}

/// A file uses Jepsen's independent `[k v]` tuples when no event has `:key`
/// and every client event's value is a two-element vector (for cas, one whose
/// second element is itself the `[expected new]` vector).
fn is_independent(forms: &[(Edn, usize)]) -> bool {
    let mut any = false;
    for (form, _) in forms {
        if form.get("key").is_some() {
            return false;
        }
        if matches!(form.get("process"), Some(Edn::Keyword(_))) {
            continue;
        }
        let is_cas = matches!(form.get("f"), Some(Edn::Keyword(f)) if f == "cas");
        match form.get("value") {
            Some(Edn::Vector(pair)) if pair.len() == 2 => {
                if is_cas && !matches!(pair[1], Edn::Vector(_)) {
                    return false;
                }
                any = true;
            }
            _ => return false,
        }
    }
    any
}

fn key_text(e: &Edn) -> Option<String> {
    match e {
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => Some(s.clone()),
        Edn::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn to_value(e: &Edn) -> Option<Value> {
    Some(match e {
        Edn::Nil => Value::Null,
        Edn::Bool(b) => Value::Bool(*b),
        Edn::Int(i) => Value::Int(*i),
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => Value::Str(s.as_str().into()),
        Edn::Vector(items) | Edn::List(items) => Value::List(
            items
                .iter()
                .map(to_value)
                .collect::<Option<Vec<_>>>()?
                .into(),
        ),
        Edn::Float(_) | Edn::Set(_) | Edn::Map(_) | Edn::Tagged(..) => return None,
    })
}
