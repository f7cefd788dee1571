//! EDN histories: Porcupine's KV format (one map per line with `:key`) and
//! Jepsen's `history.edn` (maps with `:process :type :f :value`, optional
//! `:time :index :key`, or independent `[k v]` tuples as values).

use super::edn::{Edn, EdnReader};
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
        let process = match form.get("process") {
            Some(Edn::Int(p)) if *p >= 0 => Process::Client(*p as u64),
            Some(Edn::Keyword(k)) if k == "nemesis" => Process::Nemesis,
            other => {
                return Err(malformed(
                    file,
                    line,
                    ":process a non-negative integer or :nemesis",
                    show(other),
                ));
            }
        };
        let kind = match form.get("type") {
            Some(Edn::Keyword(k)) => EventType::parse(k),
            _ => None,
        }
        .ok_or_else(|| {
            malformed(
                file,
                line,
                ":type :invoke, :ok, :fail or :info",
                show(form.get("type")),
            )
        })?;
        let f = match form.get("f") {
            Some(Edn::Keyword(k) | Edn::Symbol(k) | Edn::Str(k)) => Func::parse(k),
            other => return Err(malformed(file, line, ":f a keyword", show(other))),
        };
        let time = match form.get("time") {
            None | Some(Edn::Nil) => None,
            Some(Edn::Int(t)) if *t >= 0 => Some(*t as u64),
            other => {
                return Err(malformed(
                    file,
                    line,
                    ":time a non-negative integer",
                    show(other),
                ));
            }
        };
        let index = match form.get("index") {
            Some(Edn::Int(i)) if *i >= 0 => *i as u64,
            _ => events.len() as u64,
        };
        let raw_value = form.get("value").unwrap_or(&Edn::Nil);
        let mut key = match form.get("key") {
            None | Some(Edn::Nil) => None,
            Some(k) => Some(keys.intern(&key_text(k).ok_or_else(|| {
                malformed(
                    file,
                    line,
                    ":key a string, integer or keyword",
                    k.describe(),
                )
            })?)),
        };
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
            to_value(v).ok_or_else(|| {
                malformed(
                    file,
                    line,
                    ":value nil, an integer, a string or a vector",
                    v.describe(),
                )
            })?
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

fn show(e: Option<&Edn>) -> String {
    e.map_or_else(|| "nothing".to_string(), Edn::describe)
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
