//! The runner's error: what stopped a test from being run or recorded. The
//! binary turns every one into exit code 2 with its message.

use std::path::PathBuf;

/// Why a test could not be run, finished or recorded.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// An option is wrong or does not go with another; the message says
    /// what to use instead.
    #[error("{0}")]
    Options(String),
    /// The system under test could not be started, served no client in
    /// time, or failed otherwise.
    #[error("{0}")]
    System(String),
    /// A file or folder of the run could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Workload(#[from] faultline_workloads::WorkloadError),
    #[error(transparent)]
    Nemesis(#[from] faultline_nemesis::NemesisError),
    #[error(transparent)]
    Report(#[from] faultline_reports::ReportError),
    #[error(transparent)]
    History(#[from] faultline_checker::ParseError),
}

impl RunnerError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> RunnerError {
        RunnerError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for an options error.
pub(crate) fn bad_option(message: impl Into<String>) -> RunnerError {
    RunnerError::Options(message.into())
}
