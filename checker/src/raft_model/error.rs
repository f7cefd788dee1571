//! Errors of the model checker: bad bounds or options. Property violations
//! are not errors: they are results (see `report`).

use thiserror::Error;

/// Why a model-checking run could not start.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A bound or option is out of range; the message names the flag.
    #[error("{0}")]
    BadBound(String),
    /// The Raft core refused the model's configuration.
    #[error("the raft core refused the model configuration: {0}")]
    Core(#[from] faultline_raft::RaftError),
}
