//! The error type of the crate: every failure names the file it concerns, so
//! a user can tell which part of a run folder is missing or malformed.

use std::path::{Path, PathBuf};

/// Anything that can go wrong while reading a run or writing its report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (or one line of a JSON-lines file) does not parse.
    #[error("{}{}: malformed JSON: {source}", path.display(), line_suffix(*line))]
    Json {
        path: PathBuf,
        /// 1-based line number for JSON-lines files.
        line: Option<usize>,
        #[source]
        source: serde_json::Error,
    },
    /// A file parses but its content does not have the expected shape.
    #[error("{}{}: {message}", path.display(), line_suffix(*line))]
    Malformed {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// Writing history.csv failed.
    #[error("{}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    /// history.jsonl does not parse (the message names the file and line).
    #[error(transparent)]
    History(#[from] faultline_checker::ParseError),
    /// Drawing a plot failed.
    #[error("{}: drawing the plot failed: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    /// Rendering an HTML template failed.
    #[error("rendering template {template}: {source}")]
    Template {
        template: String,
        #[source]
        source: minijinja::Error,
    },
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

impl ReportError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A content error in `path` (optionally at a 1-based line).
    pub fn malformed(path: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        ReportError::Malformed {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, ReportError>;
