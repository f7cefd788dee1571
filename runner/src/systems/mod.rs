//! The registry of systems under test: [`ALL`] is the one place a system is
//! listed (`--db NAME` finds it there). Each system is a module: its
//! [`SystemKind`] entry, its `Db` and its clients (see [`etcd`] for the
//! shape a new system takes; [`file`] is any system a file describes,
//! `--system FILE.toml`). [`kv_ops`] is shared by the two kvnode stacks.

pub mod etcd;
pub mod faultline;
pub mod file;
pub mod kv_ops;
pub mod kvnode;
pub mod sharded;

use crate::error::{RunnerError, bad_option};
use crate::system::SystemKind;

/// Every system `faultline run --db` can test; the first is the default.
pub static ALL: &[&dyn SystemKind] = &[&faultline::Faultline, &etcd::Etcd, &file::FileSystem];

/// The names of every registered system, in registry order.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|s| s.name()).collect()
}

/// The system registered as `name`.
pub fn find(name: &str) -> Result<&'static dyn SystemKind, RunnerError> {
    ALL.iter()
        .copied()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            bad_option(format!(
                "--db {name:?}: no such system; available: {}",
                names().join(", ")
            ))
        })
}

/// A teardown's leftover problems (from removing the network) as the
/// `Db::teardown` result every process-based system returns.
pub(crate) fn network_teardown_result(
    problems: Vec<String>,
) -> Result<(), faultline_workloads::WorkloadError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(faultline_workloads::WorkloadError::Db(format!(
            "removing the network: {}",
            problems.join("; ")
        )))
    }
}
