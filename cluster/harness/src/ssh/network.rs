//! [`SshNetwork`]: the workloads' `NetControl` on remote hosts. A cut or
//! packet loss from member A to member B is an iptables DROP rule in the
//! OUTPUT chain of A's host matching A's own group id (`-m owner
//! --gid-owner`, see [`super::placement`]) and B's address and port, so
//! members sharing a host are cut apart exactly (A's connections to B
//! carry everything A sends B: Raft messages and A's requests; the
//! grudges cut both directions, so B's connections to A go too). Rules are
//! commented `fl-<run>-<purpose>` like the local rules
//! ([`crate::netns::Rule`]), added in one script per host, recorded before
//! they are made and deleted with the same spec. Clock faults rewrite each
//! member's libfaketime control file on its host; strobes and drifts are
//! local threads doing that over the session (a drift steps every
//! [`DRIFT_STEP`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use faultline_workloads::{NetControl, WorkloadError};

use super::cluster::SshCluster;
use super::error::SshError;
use super::harness::{clock_file, node_addr};
use super::placement::{Place, member_gid};
use super::remote::quote;
use crate::netns::faketime::{OffsetWriter, Strobe, format_offset_us};
use crate::netns::firewall::{Purpose, comment};

/// How often a drifting clock's offset is rewritten over SSH.
pub const DRIFT_STEP: Duration = Duration::from_millis(50);

/// One node's place: its host, its address and port there, the group id
/// it runs under, its clock file.
#[derive(Debug, Clone)]
pub struct SshNode {
    pub host: usize,
    pub ip: IpAddr,
    pub port: u16,
    pub gid: u32,
    /// The libfaketime control file on the host (`None`: no libfaketime).
    pub clock_file: Option<String>,
}

/// A rule on a host: (host, spec after the chain, purpose).
type HostRule = (usize, Vec<String>, Purpose);

/// The chain every rule goes in (the sender's side, where the owner is known).
const CHAIN: &str = "OUTPUT";

struct State {
    /// Rules in force (recorded before they are made).
    rules: Vec<HostRule>,
    offsets: BTreeMap<String, i64>,
    strobes: BTreeMap<String, Strobe>,
}

/// Partitions, packet loss and clocks of nodes on remote hosts.
pub struct SshNetwork {
    cluster: Arc<SshCluster>,
    nodes: BTreeMap<String, SshNode>,
    state: Mutex<State>,
}

fn db(e: impl std::fmt::Display) -> WorkloadError {
    WorkloadError::Db(e.to_string())
}

impl SshNetwork {
    /// The network control of the members at `places` (named by their
    /// place names) on `cluster`'s hosts.
    pub fn place(cluster: Arc<SshCluster>, places: &[Place]) -> Result<SshNetwork, SshError> {
        let hosts = cluster.hosts().len();
        let mut nodes = BTreeMap::new();
        for p in places {
            let host = p.host(hosts);
            let addr = node_addr(&cluster.hosts()[host].address, p.port())?;
            let clock_file = cluster
                .facts(host)
                .and_then(|f| f.libfaketime.as_ref())
                .map(|_| clock_file(&cluster, host, &p.name));
            let node = SshNode {
                host,
                ip: addr.ip(),
                port: p.port(),
                gid: member_gid(cluster.run_id(), p.slot),
                clock_file,
            };
            if nodes.insert(p.name.clone(), node).is_some() {
                return Err(SshError::Local(format!(
                    "two members named {:?} in one run",
                    p.name
                )));
            }
        }
        Ok(SshNetwork::new(cluster, nodes))
    }

    pub fn new(cluster: Arc<SshCluster>, nodes: BTreeMap<String, SshNode>) -> SshNetwork {
        SshNetwork {
            cluster,
            nodes,
            state: Mutex::new(State {
                rules: Vec::new(),
                offsets: BTreeMap::new(),
                strobes: BTreeMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn node(&self, name: &str) -> Result<&SshNode, WorkloadError> {
        self.nodes
            .get(name.trim())
            .ok_or_else(|| WorkloadError::Db(format!("no node named {name:?}")))
    }

    /// The rule dropping `from`'s packets to `to` (`extra` before the
    /// comment: the loss's `statistic` match).
    fn rule(&self, from: &SshNode, to: &SshNode, purpose: Purpose, extra: &[String]) -> HostRule {
        let mut spec: Vec<String> = [
            "-m",
            "owner",
            "--gid-owner",
            &from.gid.to_string(),
            "-d",
            &to.ip.to_string(),
            "-p",
            "tcp",
            "--dport",
            &to.port.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        spec.extend(extra.iter().cloned());
        spec.extend([
            "-m".into(),
            "comment".into(),
            "--comment".into(),
            comment(self.cluster.run_id(), purpose),
            "-j".into(),
            "DROP".into(),
        ]);
        (from.host, spec, purpose)
    }

    /// Run one iptables line per rule, one script per host; `line` makes
    /// a rule's line from its quoted spec.
    fn per_host(
        &self,
        rules: &[HostRule],
        what: &str,
        line: impl Fn(&str) -> String,
    ) -> Result<(), WorkloadError> {
        let mut by_host: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (host, spec, _) in rules {
            let q: Vec<String> = spec.iter().map(|s| quote(s)).collect();
            by_host.entry(*host).or_default().push(line(&q.join(" ")));
        }
        for (host, lines) in by_host {
            let script = format!("set -e; {}", lines.join("; "));
            self.cluster
                .run(host, what, &script)
                .map(drop)
                .map_err(db)?;
        }
        Ok(())
    }

    fn add_rules(&self, rules: Vec<HostRule>) -> Result<usize, WorkloadError> {
        // Recorded first: a failed script leaves nothing unrecorded.
        self.lock().rules.extend(rules.iter().cloned());
        self.per_host(&rules, "iptables", |spec| {
            format!("iptables -A {CHAIN} {spec}")
        })?;
        Ok(rules.len())
    }

    fn remove_rules(&self, purpose: Purpose) -> Result<usize, WorkloadError> {
        let todo: Vec<HostRule> = self
            .lock()
            .rules
            .iter()
            .filter(|r| r.2 == purpose)
            .cloned()
            .collect();
        // A recorded rule whose add did not happen is skipped (-C first).
        self.per_host(&todo, "iptables", |spec| {
            format!(
                "if iptables -C {CHAIN} {spec} 2>/dev/null; then iptables -D {CHAIN} {spec}; fi"
            )
        })?;
        self.lock().rules.retain(|r| !todo.contains(r));
        Ok(todo.len())
    }

    fn clock_writer(&self, name: &str) -> Result<OffsetWriter, WorkloadError> {
        let node = self.node(name)?;
        let file = node.clock_file.clone().ok_or_else(|| {
            WorkloadError::Db(format!(
                "node {name} runs without libfaketime (its host has none): clock faults need libfaketime installed there"
            ))
        })?;
        let cluster = self.cluster.clone();
        let host = node.host;
        Ok(Arc::new(move |us| {
            let q = quote(&file);
            let script = format!(
                "printf '%s\\n' {} > {q}.tmp && mv -f {q}.tmp {q}",
                format_offset_us(us)
            );
            if let Err(e) = cluster.run_quick(host, "set a clock", &script) {
                tracing::warn!(error = %e, "clock offset over SSH");
            }
        }))
    }

    fn stop_strobe(&self, name: &str) {
        let s = self.lock().strobes.remove(name);
        drop(s);
    }
}

impl NetControl for SshNetwork {
    fn run_id(&self) -> Option<String> {
        Some(self.cluster.run_id().to_string())
    }

    fn describe(&self) -> String {
        let hosts: Vec<String> = self.cluster.hosts().iter().map(|h| h.describe()).collect();
        format!("over SSH on {}", hosts.join(", "))
    }

    fn cut(&self, pairs: &[(String, String)]) -> Result<usize, WorkloadError> {
        let mut rules = Vec::new();
        for (from, to) in pairs {
            rules.push(self.rule(self.node(from)?, self.node(to)?, Purpose::Partition, &[]));
        }
        self.add_rules(rules)
    }

    fn heal_cuts(&self) -> Result<usize, WorkloadError> {
        self.remove_rules(Purpose::Partition)
    }

    fn set_loss(&self, probability: f64) -> Result<usize, WorkloadError> {
        if !(probability > 0.0 && probability <= 1.0) {
            return Err(WorkloadError::Db(format!(
                "packet loss probability {probability} is not in (0, 1]"
            )));
        }
        self.remove_rules(Purpose::Loss)?;
        let extra: Vec<String> = ["-m", "statistic", "--mode", "random", "--probability"]
            .iter()
            .map(|s| s.to_string())
            .chain([format!("{probability:.4}")])
            .collect();
        let mut rules = Vec::new();
        for (from_name, from) in &self.nodes {
            for (_, to) in self.nodes.iter().filter(|(n, _)| *n != from_name) {
                rules.push(self.rule(from, to, Purpose::Loss, &extra));
            }
        }
        self.add_rules(rules)
    }

    fn heal_loss(&self) -> Result<usize, WorkloadError> {
        self.remove_rules(Purpose::Loss)
    }

    fn set_clock(&self, node: &str, offset_ms: i64) -> Result<(), WorkloadError> {
        let write = self.clock_writer(node)?;
        self.stop_strobe(node);
        write(offset_ms * 1000);
        self.lock()
            .offsets
            .insert(node.trim().to_string(), offset_ms);
        Ok(())
    }

    fn clock(&self, node: &str) -> Result<i64, WorkloadError> {
        self.node(node)?;
        Ok(self.lock().offsets.get(node.trim()).copied().unwrap_or(0))
    }

    fn strobe_clock(
        &self,
        node: &str,
        (a, b): (i64, i64),
        period: Duration,
        duration: Duration,
    ) -> Result<(), WorkloadError> {
        if period.is_zero() {
            return Err(WorkloadError::Db("strobe period is zero".into()));
        }
        let write = self.clock_writer(node)?;
        self.stop_strobe(node);
        let s = Strobe::start_with(write, a, b, period, duration);
        let mut st = self.lock();
        st.strobes.insert(node.trim().to_string(), s);
        st.offsets.insert(node.trim().to_string(), a);
        Ok(())
    }

    fn drift_clock(
        &self,
        node: &str,
        rate_pct: u32,
        duration: Duration,
    ) -> Result<(), WorkloadError> {
        if rate_pct == 0 {
            return Err(WorkloadError::Db("clock rate 0 %".into()));
        }
        let write = self.clock_writer(node)?;
        self.stop_strobe(node);
        let base = self.clock(node)?;
        let s = Strobe::drift_with(write, base, rate_pct, duration, DRIFT_STEP);
        self.lock().strobes.insert(node.trim().to_string(), s);
        Ok(())
    }

    fn reset_clocks(&self) -> Result<(), WorkloadError> {
        let strobes = std::mem::take(&mut self.lock().strobes);
        drop(strobes);
        let names: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.clock_file.is_some())
            .map(|(name, _)| name.clone())
            .collect();
        for name in names {
            self.set_clock(&name, 0)?;
        }
        Ok(())
    }
}

impl Drop for SshNetwork {
    fn drop(&mut self) {
        let strobes = std::mem::take(&mut self.lock().strobes);
        drop(strobes);
    }
}
