//! History types: the events of DESIGN.md's `history.jsonl` contract
//! (`index, time, process, type, f, key, value, node, error`), shared by every
//! parser and by the checker.

mod value;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use value::Value;

/// Who issued an event: a client process number, or the nemesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Process {
    Client(u64),
    Nemesis,
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Nemesis => write!(f, "nemesis"),
        }
    }
}

/// The `type` of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// The operation started.
    Invoke,
    /// The operation took effect.
    Ok,
    /// The operation certainly did not take effect.
    Fail,
    /// Unknown: the operation may take effect at any later time, or never.
    Info,
}

impl EventType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "invoke" => Some(EventType::Invoke),
            "ok" => Some(EventType::Ok),
            "fail" => Some(EventType::Fail),
            "info" => Some(EventType::Info),
            _ => None,
        }
    }
}

/// The function of an operation. `read`/`write` (Jepsen's names) map to
/// `Get`/`Put`; anything else (nemesis actions) is kept as `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Func {
    Get,
    Put,
    Append,
    Cas,
    Other(Box<str>),
}

impl Func {
    pub fn parse(s: &str) -> Self {
        match s {
            "get" | "read" => Func::Get,
            "put" | "write" => Func::Put,
            "append" => Func::Append,
            "cas" => Func::Cas,
            other => Func::Other(other.into()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Func::Get => "get",
            Func::Put => "put",
            Func::Append => "append",
            Func::Cas => "cas",
            Func::Other(s) => s,
        }
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the history (the file's `index`, or the event's ordinal).
    pub index: u64,
    /// Nanoseconds since the run began, when the format records it.
    pub time: Option<u64>,
    pub process: Process,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub f: Func,
    /// The key the operation acts on; `None` for single-register histories.
    pub key: Option<Arc<str>>,
    pub value: Value,
    pub node: Option<Box<str>>,
    pub error: Option<Box<str>>,
    /// 1-based line in the source file (0 when built in memory).
    pub line: u32,
}

impl Event {
    /// A client event with no time, node or error (handy for generators and tests).
    pub fn client(
        process: u64,
        kind: EventType,
        f: Func,
        key: Option<Arc<str>>,
        value: Value,
    ) -> Self {
        Event {
            index: 0,
            time: None,
            process: Process::Client(process),
            kind,
            f,
            key,
            value,
            node: None,
            error: None,
            line: 0,
        }
    }
}

/// A history: its events in real-time order, and where it came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    pub events: Vec<Event>,
    /// The file it was read from, if any.
    pub source: Option<PathBuf>,
}

impl History {
    /// Builds a history from events in real-time order, numbering them.
    pub fn from_events(mut events: Vec<Event>) -> Self {
        for (i, e) in events.iter_mut().enumerate() {
            e.index = i as u64;
        }
        History {
            events,
            source: None,
        }
    }

    /// Number of client invocations (the operation count).
    pub fn invocations(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.kind == EventType::Invoke && e.process != Process::Nemesis)
            .count()
    }
}
