//! iptables rules a run adds: DROP (partition) and random-loss DROP
//! (`-m statistic --mode random --probability p`, since this kernel has no
//! netem) on a node namespace's INPUT chain, matched on the peer's source
//! address. Every rule carries a comment naming its run and purpose, so a
//! listing shows whose it is; it is deleted by repeating its exact spec
//! with `-D`, so healing removes exactly what was added.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::cmd::iptables_in;
use super::error::NetnsError;
use super::names::RunId;

/// Why a rule exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// A partition cut (`DROP` everything from one peer).
    Partition,
    /// Packet loss (`DROP` a random fraction from one peer).
    Loss,
    /// Host `FORWARD` accept for the run's bridge (when the host drops forwards).
    Bridge,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Partition => "partition",
            Purpose::Loss => "loss",
            Purpose::Bridge => "bridge",
        }
    }
}

/// One iptables rule: where it lives and its exact spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The namespace whose tables hold it (`None`: the host's).
    pub ns: Option<String>,
    pub chain: String,
    /// Everything after the chain name.
    pub spec: Vec<String>,
    pub purpose: Purpose,
}

/// The comment every rule of `run` carries (`fl-<runid>-<purpose>`).
pub fn comment(run: &RunId, purpose: Purpose) -> String {
    format!("fl-{run}-{}", purpose.name())
}

impl Rule {
    /// Drop all packets from `src` arriving in namespace `ns`.
    pub fn drop_from(run: &RunId, ns: &str, src: Ipv4Addr) -> Rule {
        Rule::input(run, ns, src, Purpose::Partition, &[])
    }

    /// Drop packets from `src` arriving in `ns` with probability `p`.
    pub fn lose_from(run: &RunId, ns: &str, src: Ipv4Addr, p: f64) -> Result<Rule, NetnsError> {
        if !(p > 0.0 && p <= 1.0) {
            return Err(NetnsError::BadParameter(format!(
                "packet loss probability {p} is not in (0, 1]"
            )));
        }
        let p = format!("{p:.4}");
        let extra = ["-m", "statistic", "--mode", "random", "--probability", &p];
        Ok(Rule::input(run, ns, src, Purpose::Loss, &extra))
    }

    /// Accept forwarding between ports of `bridge` on the host.
    pub fn bridge_forward(run: &RunId, bridge: &str) -> Rule {
        let spec = ["-i", bridge, "-o", bridge, "-m", "comment", "--comment"]
            .iter()
            .map(|s| s.to_string())
            .chain([comment(run, Purpose::Bridge), "-j".into(), "ACCEPT".into()])
            .collect();
        Rule {
            ns: None,
            chain: "FORWARD".into(),
            spec,
            purpose: Purpose::Bridge,
        }
    }

    fn input(run: &RunId, ns: &str, src: Ipv4Addr, purpose: Purpose, extra: &[&str]) -> Rule {
        let mut spec: Vec<String> = vec!["-s".into(), format!("{src}/32")];
        spec.extend(extra.iter().map(|s| s.to_string()));
        spec.extend([
            "-m".into(),
            "comment".into(),
            "--comment".into(),
            comment(run, purpose),
            "-j".into(),
            "DROP".into(),
        ]);
        Rule {
            ns: Some(ns.to_string()),
            chain: "INPUT".into(),
            spec,
            purpose,
        }
    }

    fn apply(&self, op: &str) -> Result<(), NetnsError> {
        let mut args = vec![op, self.chain.as_str()];
        args.extend(self.spec.iter().map(String::as_str));
        iptables_in(self.ns.as_deref(), &args).map(drop)
    }

    /// Append the rule (`-A`; for host rules, insert first with `-I`).
    pub fn add(&self) -> Result<(), NetnsError> {
        self.apply(if self.ns.is_some() { "-A" } else { "-I" })
    }

    /// Delete the rule (`-D` with the same spec).
    pub fn delete(&self) -> Result<(), NetnsError> {
        self.apply("-D")
    }
}

/// `iptables -S` of a namespace (`None`: the host), for checks and tests.
pub fn listing(ns: Option<&str>) -> Result<String, NetnsError> {
    iptables_in(ns, &["-S"])
}

/// Whether the host drops bridged traffic it forwards (`br_netfilter` on and
/// a `FORWARD` policy of `DROP`), so a run's bridge needs an accept rule.
pub fn host_drops_bridged() -> bool {
    let bridged = std::fs::read_to_string("/proc/sys/net/bridge/bridge-nf-call-iptables")
        .is_ok_and(|s| s.trim() == "1");
    bridged
        && iptables_in(None, &["-S", "FORWARD"])
            .is_ok_and(|s| s.lines().any(|l| l.trim() == "-P FORWARD DROP"))
}
