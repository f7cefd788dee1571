//! The network and clock protocol: faults below the process level (a
//! partition, packet loss, clock skew) that a system under test running in
//! network namespaces offers the nemesis. Node names are those of
//! [`Db::nodes`](crate::Db::nodes). Each call returns how many rules it
//! added or removed where that applies, so heals can be checked.

use std::time::Duration;

use crate::error::WorkloadError;

pub trait NetControl: Send + Sync {
    /// Drop traffic from `from` to `to` for each pair (one direction each).
    fn cut(&self, pairs: &[(String, String)]) -> Result<usize, WorkloadError>;
    /// Remove every cut; the number of rules removed.
    fn heal_cuts(&self) -> Result<usize, WorkloadError>;
    /// Drop packets between nodes with this probability (0..1).
    fn set_loss(&self, probability: f64) -> Result<usize, WorkloadError>;
    /// Remove the packet-loss rules.
    fn heal_loss(&self) -> Result<usize, WorkloadError>;
    /// Set a node's clock offset in milliseconds.
    fn set_clock(&self, node: &str, offset_ms: i64) -> Result<(), WorkloadError>;
    /// A node's current clock offset in milliseconds.
    fn clock(&self, node: &str) -> Result<i64, WorkloadError>;
    /// Flip a node's clock between two offsets every `period` for `duration`.
    fn strobe_clock(
        &self,
        node: &str,
        offsets_ms: (i64, i64),
        period: Duration,
        duration: Duration,
    ) -> Result<(), WorkloadError>;
    /// Every node's clock back to no offset.
    fn reset_clocks(&self) -> Result<(), WorkloadError>;
}
