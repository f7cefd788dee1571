//! The streaming `history.jsonl` recorder (DESIGN.md "History"): one JSON
//! object per line, written and flushed as each event happens, so a crash
//! of the runner loses at most the event being written. `index` increases
//! by one per event and `time` is nanoseconds since the recorder was
//! created, both taken under one lock from one monotonic clock, so the file
//! is in real-time order.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;
use serde::ser::Serializer;
use serde_json::Value;

use crate::error::WorkloadError;
use crate::op::{Op, Outcome};

/// Who an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    Client(u64),
    Nemesis,
}

impl Serialize for Process {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => s.serialize_u64(*p),
            Process::Nemesis => s.serialize_str("nemesis"),
        }
    }
}

/// One line of the history, before it gets its index and time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub process: Process,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub f: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Event {
    /// A client's invocation of `op`.
    pub fn invoke(process: u64, op: &Op) -> Event {
        Event {
            process: Process::Client(process),
            kind: "invoke",
            f: op.f.name().to_string(),
            key: Some(op.key.clone()),
            value: op.value.clone(),
            node: None,
            error: None,
        }
    }

    /// The completion of `op` with `outcome`. An ok event carries the value
    /// read (gets) or written; fail and info carry the invoked value.
    pub fn complete(process: u64, op: &Op, outcome: &Outcome) -> Event {
        let (value, error) = match outcome {
            Outcome::Ok { value, .. } => (value.clone(), None),
            Outcome::Fail { error, .. } | Outcome::Info { error, .. } => {
                (op.value.clone(), Some(error.clone()))
            }
        };
        Event {
            process: Process::Client(process),
            kind: outcome.type_name(),
            f: op.f.name().to_string(),
            key: Some(op.key.clone()),
            value,
            node: outcome.node().map(str::to_string),
            error,
        }
    }

    /// A nemesis event (`f` like `start-kill`; `kind` invoke, ok or info).
    pub fn nemesis(kind: &'static str, f: impl Into<String>, value: Value) -> Event {
        Event {
            process: Process::Nemesis,
            kind,
            f: f.into(),
            key: None,
            value,
            node: None,
            error: None,
        }
    }
}

#[derive(Serialize)]
struct Line<'a> {
    index: u64,
    time: u64,
    #[serde(flatten)]
    event: &'a Event,
}

struct Inner {
    out: BufWriter<File>,
    next_index: u64,
    failed: Option<String>,
}

/// Appends events to `history.jsonl`; shared by every client worker and the
/// nemesis.
pub struct HistoryWriter {
    path: PathBuf,
    start: Instant,
    inner: Mutex<Inner>,
}

impl HistoryWriter {
    /// Create (truncate) the file; time 0 is now.
    pub fn create(path: &Path) -> Result<HistoryWriter, WorkloadError> {
        let file = File::create(path).map_err(|source| WorkloadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(HistoryWriter {
            path: path.to_path_buf(),
            start: Instant::now(),
            inner: Mutex::new(Inner {
                out: BufWriter::new(file),
                next_index: 0,
                failed: None,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Nanoseconds since the run began.
    pub fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// The instant time 0 stands for.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Write one event now and flush it; returns its index. A write error is
    /// kept (see [`finish`](Self::finish)) rather than stopping the run.
    pub fn record(&self, event: &Event) -> u64 {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let index = inner.next_index;
        inner.next_index += 1;
        let line = Line {
            index,
            time: self.now_ns(),
            event,
        };
        let written = serde_json::to_writer(&mut inner.out, &line)
            .map_err(std::io::Error::other)
            .and_then(|()| inner.out.write_all(b"\n"))
            .and_then(|()| inner.out.flush());
        if let Err(e) = written
            && inner.failed.is_none()
        {
            tracing::error!(path = %self.path.display(), error = %e, "cannot write the history");
            inner.failed = Some(e.to_string());
        }
        index
    }

    /// Events written so far.
    pub fn len(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_index
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flush and report the first write error, if any happened.
    pub fn finish(&self) -> Result<(), WorkloadError> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let flushed = inner.out.flush();
        let err = inner
            .failed
            .take()
            .map(std::io::Error::other)
            .or(flushed.err());
        match err {
            None => Ok(()),
            Some(source) => Err(WorkloadError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_on_disk_in_order_as_soon_as_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let h = HistoryWriter::create(&path).unwrap();
        let op = Op::cas("r1", 1, 2);
        h.record(&Event::invoke(3, &op));
        // Visible before finish: nothing is held back in a buffer.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1);
        h.record(&Event::complete(
            3,
            &op,
            &Outcome::Info {
                error: "timeout".into(),
                node: Some("n2".into()),
            },
        ));
        h.record(&Event::nemesis(
            "invoke",
            "start-kill",
            serde_json::json!({"targets": ["n1"]}),
        ));
        h.finish().unwrap();
        let lines: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        let times: Vec<u64> = lines.iter().map(|l| l["time"].as_u64().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(lines[0]["index"], 0);
        assert_eq!(lines[0]["process"], 3);
        assert_eq!(lines[0]["value"], serde_json::json!([1, 2]));
        assert!(lines[0].get("node").is_none());
        assert_eq!(lines[1]["type"], "info");
        assert_eq!(lines[1]["node"], "n2");
        assert_eq!(lines[1]["error"], "timeout");
        assert_eq!(lines[2]["process"], "nemesis");
        assert_eq!(lines[2]["index"], 2);
        assert!(lines[2].get("key").is_none());
    }

    #[test]
    fn the_checker_parses_what_is_written() {
        // The recorder's output is the checker's input: one ok get with a value.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let h = HistoryWriter::create(&path).unwrap();
        let op = Op::get("r0");
        h.record(&Event::invoke(0, &op));
        h.record(&Event::complete(
            0,
            &op,
            &Outcome::Ok {
                value: Value::Null,
                node: None,
            },
        ));
        h.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""type":"ok","f":"get","key":"r0","value":null"#));
    }
}
