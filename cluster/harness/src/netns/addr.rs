//! The address plan of a run: a private 10.x.y.0/24 derived from the run id,
//! skipping any subnet that overlaps a route or address already on the host.
//! The bridge is `.1`, node `id` is `.(10 + id)`.

use std::net::Ipv4Addr;

use faultline_raft::NodeId;
use serde::{Deserialize, Serialize};

use super::cmd::ip_cmd;
use super::error::NetnsError;
use super::names::RunId;

/// Highest node id the plan has an address for.
pub const MAX_NODE: NodeId = 240;

/// One run's /24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrPlan {
    /// Second and third octet of 10.x.y.0/24.
    pub x: u8,
    pub y: u8,
}

impl AddrPlan {
    /// The first candidate for `run` that overlaps no existing route or
    /// address on the host.
    pub fn choose(run: &RunId) -> Result<AddrPlan, NetnsError> {
        let taken = host_prefixes()?;
        let n = run.number();
        (0..4096u32)
            .map(|i| {
                let v = n.wrapping_add(i.wrapping_mul(7919));
                AddrPlan {
                    x: 128 + (v % 112) as u8,
                    y: (v >> 8) as u8,
                }
            })
            .find(|p| {
                !taken
                    .iter()
                    .any(|&(a, len)| overlaps(p.subnet(), 24, a, len))
            })
            .ok_or(NetnsError::NoSubnet)
    }

    pub fn subnet(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.x, self.y, 0)
    }

    /// The bridge's (the host's) address.
    pub fn bridge_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.x, self.y, 1)
    }

    /// Node `id`'s address.
    pub fn node_ip(&self, id: NodeId) -> Result<Ipv4Addr, NetnsError> {
        if id == 0 || id > MAX_NODE {
            return Err(NetnsError::BadParameter(format!(
                "node id {id} outside 1..={MAX_NODE}"
            )));
        }
        Ok(Ipv4Addr::new(10, self.x, self.y, 10 + id as u8))
    }
}

/// Whether a/alen and b/blen share addresses.
pub fn overlaps(a: Ipv4Addr, alen: u8, b: Ipv4Addr, blen: u8) -> bool {
    let len = alen.min(blen).min(32) as u32;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(a) & mask == u32::from(b) & mask
}

/// Every IPv4 prefix in the host's routes and addresses (`default` excluded).
fn host_prefixes() -> Result<Vec<(Ipv4Addr, u8)>, NetnsError> {
    let routes = ip_cmd(&["-4", "route", "show", "table", "all"])?;
    let addrs = ip_cmd(&["-4", "-o", "addr", "show"])?;
    Ok(parse_prefixes(&routes)
        .into_iter()
        .chain(parse_prefixes(&addrs))
        .collect())
}

/// The `a.b.c.d[/len]` tokens of `ip` output.
fn parse_prefixes(text: &str) -> Vec<(Ipv4Addr, u8)> {
    text.split_whitespace()
        .filter_map(|tok| {
            let (addr, len) = tok.split_once('/').unwrap_or((tok, "32"));
            Some((addr.parse().ok()?, len.parse().ok().filter(|&l| l <= 32)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_and_parsing() {
        let p = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert!(overlaps(p("10.1.2.0"), 24, p("10.0.0.0"), 8));
        assert!(overlaps(p("10.1.2.0"), 24, p("10.1.2.7"), 32));
        assert!(!overlaps(p("10.1.2.0"), 24, p("10.1.3.0"), 24));
        let found = parse_prefixes(
            "default via 192.0.2.1 dev eth0\n192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2\n",
        );
        assert_eq!(
            found,
            vec![
                (p("192.0.2.1"), 32),
                (p("192.0.2.0"), 24),
                (p("192.0.2.2"), 32)
            ]
        );
        let plan = AddrPlan { x: 200, y: 3 };
        assert_eq!(plan.node_ip(2).unwrap(), p("10.200.3.12"));
        assert!(plan.node_ip(0).is_err());
    }
}
