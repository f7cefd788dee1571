//! Where each member of a run goes over SSH. Members are numbered once per
//! run by a *slot* (1, 2, …: a single group's member ids; in a sharded
//! deployment controllers first, then group by group). Slot `k` runs on
//! host `(k-1) mod H` of the hosts file and listens on port
//! `NODE_PORT + k - 1`, so several members may share a host and every
//! member of the run has a port of its own. Each member also runs under a
//! group id of its own ([`member_gid`], set with `setpriv --regid`), which
//! is how the partition and packet rules (iptables `owner` match in the
//! sending host's OUTPUT chain) tell apart members sharing a host.

use std::hash::{Hash, Hasher};

use crate::netns::RunId;
use crate::netns_group::NODE_PORT;

/// The group ids members run under start here (well above the ids of
/// ordinary groups; below 2^31).
const GID_BASE: u32 = 0x7000_0000;
/// Slots per run in the group id space (a run has fewer members).
const SLOTS_PER_RUN: u32 = 0x1000;
/// The most members a run may place (ports and group ids stay distinct).
pub const MAX_SLOTS: u64 = SLOTS_PER_RUN as u64 - 1;

/// One member's place over SSH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The member's number in the run (1-based).
    pub slot: u64,
    /// Its name in the run (`"2"`, `"c1"`, `"g2n3"`): its folder, its clock
    /// file and its network name on the hosts.
    pub name: String,
}

impl Place {
    pub fn new(slot: u64, name: impl Into<String>) -> Place {
        Place {
            slot,
            name: name.into(),
        }
    }

    /// The host (index in the hosts file) of this member.
    pub fn host(&self, hosts: usize) -> usize {
        host_of(self.slot, hosts)
    }

    /// The TCP port this member listens on.
    pub fn port(&self) -> u16 {
        port_of(self.slot)
    }
}

/// The host index of slot `slot` among `hosts` hosts.
pub fn host_of(slot: u64, hosts: usize) -> usize {
    ((slot.max(1) - 1) % hosts.max(1) as u64) as usize
}

/// The port of slot `slot`.
pub fn port_of(slot: u64) -> u16 {
    NODE_PORT.saturating_add((slot.max(1) - 1).min(MAX_SLOTS) as u16)
}

/// The group id member `slot` of `run` runs under: distinct per slot, and
/// per run with high probability (runs on one host in parallel keep their
/// rules apart by comment anyway).
pub fn member_gid(run: &RunId, slot: u64) -> u32 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    run.to_string().hash(&mut h);
    let runs = (0x8000_0000 - GID_BASE) / SLOTS_PER_RUN;
    let base = GID_BASE + (h.finish() % u64::from(runs)) as u32 * SLOTS_PER_RUN;
    base + slot.min(MAX_SLOTS) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_spread_over_hosts_with_distinct_ports_and_gids() {
        let run = RunId::fresh();
        let mut ports = std::collections::BTreeSet::new();
        let mut gids = std::collections::BTreeSet::new();
        for slot in 1..=12 {
            assert!(ports.insert(port_of(slot)));
            assert!(gids.insert(member_gid(&run, slot)));
            assert!(member_gid(&run, slot) >= GID_BASE);
            assert!(
                member_gid(&run, slot) < 1 << 31,
                "{}",
                member_gid(&run, slot)
            );
        }
        assert_eq!(port_of(1), NODE_PORT);
        let on: Vec<usize> = (1..=7).map(|s| host_of(s, 3)).collect();
        assert_eq!(on, [0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(host_of(5, 1), 0);
        assert_eq!(Place::new(4, "g1n1").host(3), 0);
    }
}
