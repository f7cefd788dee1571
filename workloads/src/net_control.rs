//! The network and clock controls a system under test may offer the
//! nemesis (Jepsen's net and clock protocols): cut traffic between named
//! nodes, drop a random fraction of it, and skew each node's wall clock.
//! Systems without them (e.g. nodes on loopback) return `None` from
//! [`Db::network`](crate::Db::network).

use std::time::Duration;

use crate::error::WorkloadError;

/// Faults on the network between nodes and on their clocks. Every method is
/// blocking and takes effect before it returns.
pub trait NetControl: Send + Sync {
    /// The id naming what this network made (namespaces, devices, rules),
    /// as `faultline clean` and test.json's `netns_run` know it.
    fn run_id(&self) -> Option<String> {
        None
    }
    /// Where the nodes are, in a few words (e.g. the namespaces' names).
    fn describe(&self) -> String {
        "a controllable network".to_string()
    }
    /// Drop every packet from `from` to `to` for each `(from, to)` pair (one
    /// direction per pair; name both pairs for a full cut). Adds to the cuts
    /// already in force; returns how many rules it added.
    fn cut(&self, pairs: &[(String, String)]) -> Result<usize, WorkloadError>;
    /// Remove every cut (exactly the rules [`cut`](Self::cut) added); returns
    /// how many were removed.
    fn heal_cuts(&self) -> Result<usize, WorkloadError>;
    /// Drop each packet between any two nodes with `probability` (replacing
    /// any loss in force); returns how many rules it added.
    fn set_loss(&self, probability: f64) -> Result<usize, WorkloadError>;
    /// Remove the packet loss; returns how many rules were removed.
    fn heal_loss(&self) -> Result<usize, WorkloadError>;
    /// Set `node`'s wall clock to run `offset_ms` ahead of (negative: behind)
    /// the real clock.
    fn set_clock(&self, node: &str, offset_ms: i64) -> Result<(), WorkloadError>;
    /// The offset now in force on `node`, in ms.
    fn clock(&self, node: &str) -> Result<i64, WorkloadError>;
    /// Flip `node`'s offset between `offsets_ms.0` and `offsets_ms.1` every
    /// `period` for `duration` (in the background; it settles on the first).
    fn strobe_clock(
        &self,
        node: &str,
        offsets_ms: (i64, i64),
        period: Duration,
        duration: Duration,
    ) -> Result<(), WorkloadError>;
    /// Make `node`'s clock run at `rate_pct` percent of real time for
    /// `duration`, from its offset now (in the background: the offset is
    /// moved every few ms; with the monotonic clock faked too, timers and
    /// leases see the rate). Networks without clock control refuse.
    fn drift_clock(
        &self,
        node: &str,
        rate_pct: u32,
        duration: Duration,
    ) -> Result<(), WorkloadError> {
        let _ = (rate_pct, duration);
        Err(WorkloadError::Db(format!(
            "this network cannot change the clock rate of {node}"
        )))
    }
    /// Stop every strobe and drift and set every clock back to the real time.
    fn reset_clocks(&self) -> Result<(), WorkloadError>;
}
