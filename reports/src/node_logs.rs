//! Node logs (`nodes/<node>/node.log`): tracing fmt lines read, timestamped
//! and merged across nodes into one time-ordered list.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::error::{ReportError, Result};
use crate::timestamps::parse_rfc3339;

/// One line of one node's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Index into [`NodeLogs::nodes`].
    pub node: usize,
    /// Wall-clock time; continuation lines (no timestamp of their own) take
    /// the time of the line before them; `None` before any timestamp.
    pub time: Option<DateTime<Utc>>,
    /// `TRACE`..`ERROR` when the line has one.
    pub level: Option<String>,
    /// The line after its timestamp and level, with ANSI colours removed.
    pub text: String,
}

/// All nodes' logs, merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeLogs {
    /// Node names (folder names under `nodes/`), sorted.
    pub nodes: Vec<String>,
    /// Lines of all nodes ordered by time (stable: file order within a node).
    pub lines: Vec<LogLine>,
}

const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// Reads every `nodes/<node>/node.log` under `nodes_dir`. A missing
/// `nodes_dir` means no logs; a node folder without `node.log` is skipped.
pub fn read_node_logs(nodes_dir: &Path) -> Result<NodeLogs> {
    if !nodes_dir.is_dir() {
        return Ok(NodeLogs::default());
    }
    let entries = std::fs::read_dir(nodes_dir).map_err(|e| ReportError::io(nodes_dir, e))?;
    let mut nodes: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ReportError::io(nodes_dir, e))?;
        if entry.path().join("node.log").is_file() {
            nodes.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    nodes.sort_by_key(|n| natural_key(n));
    let mut per_node = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let path = nodes_dir.join(node).join("node.log");
        let bytes = std::fs::read(&path).map_err(|e| ReportError::io(&path, e))?;
        per_node.push(parse_log(i, &String::from_utf8_lossy(&bytes)));
    }
    Ok(NodeLogs {
        nodes,
        lines: merge(per_node),
    })
}

/// Parses one node's log text.
pub fn parse_log(node: usize, text: &str) -> Vec<LogLine> {
    let mut last_time = None;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|raw| {
            let line = strip_ansi(raw);
            let (time, rest) = match line.split_once(char::is_whitespace) {
                Some((head, rest)) => match parse_rfc3339(head) {
                    Some(t) => (Some(t), rest.trim_start()),
                    None => (None, line.as_str()),
                },
                None => (parse_rfc3339(&line), ""),
            };
            let (level, text) = if time.is_some() {
                match rest.split_once(char::is_whitespace) {
                    Some((lv, tail)) if LEVELS.contains(&lv) => {
                        (Some(lv.to_string()), tail.trim_start())
                    }
                    _ if LEVELS.contains(&rest.trim()) => (Some(rest.trim().to_string()), ""),
                    _ => (None, rest),
                }
            } else {
                (None, rest)
            };
            if time.is_some() {
                last_time = time;
            }
            LogLine {
                node,
                time: time.or(last_time),
                level,
                text: text.to_string(),
            }
        })
        .collect()
}

/// Merges per-node lines by time; lines without a time go first, and equal
/// times keep node order then file order.
pub fn merge(per_node: Vec<Vec<LogLine>>) -> Vec<LogLine> {
    let mut all: Vec<LogLine> = per_node.into_iter().flatten().collect();
    all.sort_by_key(|l| (l.time, l.node));
    all
}

/// Removes ANSI escape sequences (`ESC [ ... letter`).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Sort key so that `n2` comes before `n10`.
fn natural_key(s: &str) -> (String, u64, String) {
    let split = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
    let (prefix, rest) = s.split_at(split);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let number = digits.parse().unwrap_or(0);
    (prefix.to_string(), number, rest[digits.len()..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tracing_lines_levels_and_continuations() {
        let log = "2024-05-01T12:00:00.100000Z  INFO kvnode::raft: became leader term=3\n\
                   \u{1b}[2m2024-05-01T12:00:00.200000Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m slow fsync\n\
                   thread 'main' panicked at src/x.rs\n\
                   \n";
        let lines = parse_log(0, log);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].level.as_deref(), Some("INFO"));
        assert_eq!(lines[0].text, "kvnode::raft: became leader term=3");
        assert_eq!(lines[1].level.as_deref(), Some("WARN"));
        assert_eq!(lines[1].text, "slow fsync");
        assert_eq!(lines[2].time, lines[1].time);
        assert_eq!(lines[2].level, None);
        assert!(lines[2].text.starts_with("thread"));
    }

    #[test]
    fn merges_nodes_by_time() {
        let a = parse_log(
            0,
            "2024-05-01T12:00:00.300Z INFO a1\n2024-05-01T12:00:00.100Z INFO a0\n",
        );
        let b = parse_log(1, "2024-05-01T12:00:00.200Z INFO b1\nno time at all\n");
        let merged: Vec<_> = merge(vec![a, b]).into_iter().map(|l| l.text).collect();
        assert_eq!(merged, vec!["a0", "b1", "no time at all", "a1"]);
    }

    #[test]
    fn reads_node_folders_in_natural_order() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["n10", "n2", "empty"] {
            std::fs::create_dir_all(dir.path().join(n)).unwrap();
        }
        std::fs::write(
            dir.path().join("n10/node.log"),
            "2024-05-01T12:00:00Z INFO x\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("n2/node.log"),
            "2024-05-01T12:00:01Z INFO y\n",
        )
        .unwrap();
        let logs = read_node_logs(dir.path()).unwrap();
        assert_eq!(logs.nodes, vec!["n2", "n10"]);
        assert_eq!(logs.lines.len(), 2);
        assert_eq!(logs.lines[0].node, 1);
        assert_eq!(
            read_node_logs(&dir.path().join("missing")).unwrap(),
            NodeLogs::default()
        );
    }
}
