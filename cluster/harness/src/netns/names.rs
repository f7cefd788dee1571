//! Run ids and the names derived from them. A run id is six hex digits, so
//! every name fits Linux's 15-character limit for interfaces; every
//! namespace, device and file a run creates carries it, so parallel runs
//! and tests never collide and leftovers can be told apart.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use faultline_raft::NodeId;
use serde::{Deserialize, Serialize};

/// Prefix of every namespace a run creates (`fl-<runid>-n<id>`).
pub const NS_PREFIX: &str = "fl-";

/// A short, per-run identifier (six lowercase hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RunId(String);

impl RunId {
    /// A fresh id: hashed from the pid, the time and a process-wide counter
    /// with the std library's randomly keyed hasher.
    pub fn fresh() -> RunId {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        h.write_u128(nanos);
        RunId(format!("{:06x}", h.finish() & 0xff_ffff))
    }

    /// Parse an id as written by [`RunId::fresh`].
    pub fn parse(s: &str) -> Option<RunId> {
        (s.len() == 6 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| RunId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A number derived from the id (to pick the run's subnet).
    pub fn number(&self) -> u32 {
        u32::from_str_radix(&self.0, 16).unwrap_or(0)
    }

    /// The namespace of node `id`.
    pub fn namespace(&self, id: NodeId) -> String {
        format!("{NS_PREFIX}{}-n{id}", self.0)
    }

    /// The run's bridge device.
    pub fn bridge(&self) -> String {
        format!("fl{}br", self.0)
    }

    /// The host end of node `id`'s veth pair (attached to the bridge).
    pub fn veth_host(&self, id: NodeId) -> String {
        format!("fl{}h{id}", self.0)
    }

    /// The namespace end of node `id`'s veth pair.
    pub fn veth_node(&self, id: NodeId) -> String {
        format!("fl{}p{id}", self.0)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_interface_limits_and_differ() {
        let a = RunId::fresh();
        let b = RunId::fresh();
        assert_ne!(a, b);
        assert_eq!(RunId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(RunId::parse("xyz"), None);
        for name in [a.bridge(), a.veth_host(255), a.veth_node(255)] {
            assert!(name.len() <= 15, "{name}");
        }
        assert!(a.namespace(3).starts_with(&format!("fl-{a}-")));
        assert_ne!(a.veth_host(1), a.veth_node(1));
    }
}
