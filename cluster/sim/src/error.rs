//! Errors of the simulator: bad options and cores that refuse to start.

use faultline_raft::RaftError;

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulation options: {0}")]
    InvalidOptions(String),
    #[error("node n{node} could not start: {source}")]
    Start { node: u64, source: RaftError },
    #[error("{0}")]
    Scenario(String),
}
