//! Helpers shared by the checker's integration tests: locating the shared
//! test data and building histories from compact descriptions.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use faultline_checker::{Event, EventType, Func, History, Value};

/// `../shared/testdata` beside the repository (CI clones it there). Panics
/// (fails the test) when missing: these tests must not silently skip.
pub fn testdata() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata");
    assert!(
        dir.join("porcupine/EXPECTED.tsv").is_file(),
        "test data missing: expected {} (the shared/ folder beside the repository)",
        dir.display()
    );
    dir
}

/// An event on key `key` (None for a single register).
pub fn ev(process: u64, kind: EventType, f: Func, key: Option<&str>, value: Value) -> Event {
    Event::client(process, kind, f, key.map(Arc::from), value)
}

pub fn cas(a: Value, b: Value) -> Value {
    Value::List(vec![a, b].into())
}

pub fn history(events: Vec<Event>) -> History {
    History::from_events(events)
}
