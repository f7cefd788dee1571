//! Error types of the checker: parse errors (file, line, what was expected)
//! and history/model errors (an operation the chosen model cannot express).

use std::path::PathBuf;

use thiserror::Error;

/// A history file could not be read.
#[derive(Debug, Error)]
pub enum ParseError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A malformed line: `file:line: expected ..., found ...`.
    #[error("{file}:{line}: expected {expected}, found {found}")]
    Malformed {
        file: String,
        line: usize,
        expected: String,
        found: String,
    },
    #[error(
        "{file}: cannot tell the history format ({why}); pass --format jsonl|porcupine-kv|jepsen-etcd|jepsen-edn"
    )]
    UnknownFormat { file: String, why: String },
    #[error("unknown format {0:?}: expected jsonl, porcupine-kv, jepsen-etcd or jepsen-edn")]
    FormatName(String),
}

/// A history is well-formed text but cannot be checked as asked.
#[derive(Debug, Error)]
pub enum CheckError {
    /// Invoke/completion pairing is broken (e.g. a completion with no invoke).
    #[error("line {line}: {message}")]
    Pairing { line: u32, message: String },
    /// The model cannot express an operation.
    #[error("line {line}: model {model} cannot check `{f}` with value {value}: {why}")]
    Unsupported {
        line: u32,
        model: &'static str,
        f: String,
        value: String,
        why: &'static str,
    },
    #[error("unknown model {0:?}: expected register, cas-register or kv")]
    ModelName(String),
}
