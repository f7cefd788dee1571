//! Reading histories: the `Format`s the checker understands, auto-detection,
//! and `parse_file` / `parse_str`, which dispatch to one module per format.

mod edn;
mod edn_history;
mod etcd;
mod fields;
mod jsonl;
mod keys;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;
use crate::history::History;

pub use edn::{Edn, EdnReader};

/// A history file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// faultline's `history.jsonl` (DESIGN.md).
    Jsonl,
    /// Porcupine's KV test histories: one EDN map per line with `:key`.
    PorcupineKv,
    /// Jepsen etcd logs: `INFO  jepsen.util - 3\t:ok\t:read\tnil`.
    JepsenEtcd,
    /// Jepsen `history.edn`: EDN maps, optionally with `[k v]` independent tuples.
    JepsenEdn,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::PorcupineKv => "porcupine-kv",
            Format::JepsenEtcd => "jepsen-etcd",
            Format::JepsenEdn => "jepsen-edn",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jsonl" | "json" => Ok(Format::Jsonl),
            "porcupine-kv" | "kv" => Ok(Format::PorcupineKv),
            "jepsen-etcd" | "etcd" => Ok(Format::JepsenEtcd),
            "jepsen-edn" | "edn" => Ok(Format::JepsenEdn),
            other => Err(ParseError::FormatName(other.to_string())),
        }
    }
}

/// Guesses the format from the first meaningful line of `text`.
pub fn detect(text: &str, file: &str) -> Result<Format, ParseError> {
    let Some(first) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(';'))
    else {
        return Err(ParseError::UnknownFormat {
            file: file.to_string(),
            why: "it is empty".to_string(),
        });
    };
    if first.starts_with("{\"") || first.starts_with("{ \"") {
        return Ok(Format::Jsonl);
    }
    if text.lines().take(50).any(|l| l.contains("jepsen.util -")) {
        return Ok(Format::JepsenEtcd);
    }
    if first.starts_with('{') && first.contains(":key ") && !first.contains(":time ") {
        return Ok(Format::PorcupineKv);
    }
    if first.starts_with('{') || first.starts_with('[') || first.starts_with('(') {
        return Ok(Format::JepsenEdn);
    }
    let shown: String = first.chars().take(40).collect();
    Err(ParseError::UnknownFormat {
        file: file.to_string(),
        why: format!("first line starts with {shown:?}"),
    })
}

/// Reads a history file; `format` `None` means auto-detect.
pub fn parse_file(path: &Path, format: Option<Format>) -> Result<(History, Format), ParseError> {
    let text = std::fs::read_to_string(path).map_err(|source| ParseError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = path.display().to_string();
    let (mut history, format) = parse_str(&text, &file, format)?;
    history.source = Some(path.to_path_buf());
    Ok((history, format))
}

/// Parses history text; `file` names it in error messages.
pub fn parse_str(
    text: &str,
    file: &str,
    format: Option<Format>,
) -> Result<(History, Format), ParseError> {
    let format = match format {
        Some(f) => f,
        None => detect(text, file)?,
    };
    let events = match format {
        Format::Jsonl => jsonl::parse(text, file)?,
        Format::PorcupineKv | Format::JepsenEdn => edn_history::parse(text, file)?,
        Format::JepsenEtcd => etcd::parse(text, file)?,
    };
    Ok((
        History {
            events,
            source: None,
        },
        format,
    ))
}

/// Builds a `Malformed` error.
pub(crate) fn malformed(
    file: &str,
    line: usize,
    expected: impl Into<String>,
    found: impl Into<String>,
) -> ParseError {
    let mut found = found.into();
    if found.len() > 80 {
        let mut cut = 77;
        while !found.is_char_boundary(cut) {
            cut -= 1;
        }
        found.truncate(cut);
        found.push_str("...");
    }
    ParseError::Malformed {
        file: file.to_string(),
        line,
        expected: expected.into(),
        found,
    }
}
