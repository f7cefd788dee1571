//! `history.csv`: the history flat, one row per event, for spreadsheets.

use std::path::Path;

use serde::Serialize;

use crate::error::{ReportError, Result};
use crate::history::{HistoryEvent, value_text};

/// File name of the CSV export.
pub const HISTORY_CSV: &str = "history.csv";

#[derive(Serialize)]
struct Row<'a> {
    index: u64,
    /// Nanoseconds since the run began.
    time: u64,
    process: String,
    #[serde(rename = "type")]
    kind: &'static str,
    f: &'a str,
    key: &'a str,
    value: String,
    node: &'a str,
    error: &'a str,
}

/// Writes `events` as CSV with the header
/// `index,time,process,type,f,key,value,node,error`.
pub fn write_history_csv(path: &Path, events: &[HistoryEvent]) -> Result<()> {
    let csv_err = |source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = csv::Writer::from_path(path).map_err(csv_err)?;
    for e in events {
        writer
            .serialize(Row {
                index: e.index,
                time: e.time_ns,
                process: e.process.label(),
                kind: e.kind.as_str(),
                f: &e.f,
                key: e.key.as_deref().unwrap_or(""),
                value: if e.value.is_null() {
                    String::new()
                } else {
                    value_text(e.value.clone())
                },
                node: e.node.as_deref().unwrap_or(""),
                error: e.error.as_deref().unwrap_or(""),
            })
            .map_err(csv_err)?;
    }
    writer.flush().map_err(|e| ReportError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_line;

    #[test]
    fn writes_header_and_quotes_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HISTORY_CSV);
        let events = vec![
            parse_line(r#"{"index":0,"time":5,"process":3,"type":"invoke","f":"cas","key":"k7","value":[1,2]}"#).unwrap(),
            parse_line(r#"{"index":1,"time":9,"process":"nemesis","type":"info","f":"start-kill","value":"n1","error":"x, y"}"#).unwrap(),
        ];
        write_history_csv(&path, &events).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("index,time,process,type,f,key,value,node,error")
        );
        assert_eq!(lines.next(), Some("0,5,3,invoke,cas,k7,\"[1,2]\",,"));
        assert_eq!(
            lines.next(),
            Some("1,9,nemesis,info,start-kill,,n1,,\"x, y\"")
        );
    }
}
