//! Membership control a replicated system under test may offer the
//! nemesis: start a fresh node (new name, empty data, its own address) and
//! add it to the group, or remove a member from the group. Systems without
//! it return `None` from [`Db::membership`](crate::Db::membership).

use crate::error::WorkloadError;

/// Membership changes of the system's replica group. Every method is
/// blocking; a change returns once the group committed it. An error may
/// leave the change applied or not: [`members`](Self::members) says.
pub trait MembershipControl: Send + Sync {
    /// The nodes of the group's configuration now, by name, ascending.
    fn members(&self) -> Vec<String>;
    /// Start a fresh node (a new name, an empty data directory, in its own
    /// network namespace when nodes have one) and add it to the group as a
    /// voter; its name.
    fn add_fresh(&self) -> Result<String, WorkloadError>;
    /// Remove `node` from the group. Its process keeps running (a removed
    /// member must refuse clients and stay quiet); teardown stops it.
    fn remove(&self, node: &str) -> Result<(), WorkloadError>;
}
