//! Errors of the nemesis: an unknown package name, or a fault the system
//! under test refused.

use faultline_workloads::WorkloadError;

#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    #[error("unknown nemesis package {name:?}; available: {available} (or all, none)")]
    UnknownPackage { name: String, available: String },
    #[error("bad nemesis option: {0}")]
    Option(String),
    #[error(transparent)]
    Db(#[from] WorkloadError),
}
