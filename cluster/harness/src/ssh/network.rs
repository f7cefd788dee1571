//! [`SshNetwork`]: the workloads' `NetControl` on remote hosts. A cut or
//! packet loss is an iptables DROP rule in the receiving host's INPUT chain
//! matched on the sender's address (as the hosts file gives it), commented
//! `fl-<run>-<purpose>` like the local rules ([`crate::netns::Rule`]), and
//! deleted with the same spec. Clock faults rewrite each node's libfaketime
//! control file on its host; strobes and drifts are local threads doing
//! that over the session (a drift steps every [`DRIFT_STEP`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use faultline_workloads::{NetControl, WorkloadError};

use super::cluster::SshCluster;
use super::remote::quote;
use crate::netns::faketime::{OffsetWriter, Strobe, format_offset_us};
use crate::netns::firewall::{Purpose, comment};

/// How often a drifting clock's offset is rewritten over SSH.
pub const DRIFT_STEP: Duration = Duration::from_millis(50);

/// One node's place: its host, its address there, its clock file.
#[derive(Debug, Clone)]
pub struct SshNode {
    pub host: usize,
    pub ip: IpAddr,
    /// The libfaketime control file on the host (`None`: no libfaketime).
    pub clock_file: Option<String>,
}

struct State {
    /// Rules in force: (host, spec after the chain, purpose).
    rules: Vec<(usize, Vec<String>, Purpose)>,
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

    fn iptables(&self, host: usize, op: &str, spec: &[String]) -> Result<(), WorkloadError> {
        let args: Vec<String> = spec.iter().map(|s| quote(s)).collect();
        self.cluster
            .run(
                host,
                "iptables",
                &format!("iptables {op} INPUT {}", args.join(" ")),
            )
            .map(drop)
            .map_err(db)
    }

    fn add_rule(
        &self,
        host: usize,
        src: IpAddr,
        purpose: Purpose,
        extra: &[String],
    ) -> Result<(), WorkloadError> {
        let mut spec = vec!["-s".to_string(), src.to_string()];
        spec.extend(extra.iter().cloned());
        spec.extend([
            "-m".into(),
            "comment".into(),
            "--comment".into(),
            comment(self.cluster.run_id(), purpose),
            "-j".into(),
            "DROP".into(),
        ]);
        self.iptables(host, "-A", &spec)?;
        self.lock().rules.push((host, spec, purpose));
        Ok(())
    }

    fn remove_rules(&self, purpose: Purpose) -> Result<usize, WorkloadError> {
        let todo: Vec<(usize, Vec<String>, Purpose)> = self
            .lock()
            .rules
            .iter()
            .filter(|r| r.2 == purpose)
            .cloned()
            .collect();
        let mut removed = 0;
        for rule in todo {
            self.iptables(rule.0, "-D", &rule.1)?;
            self.lock().rules.retain(|r| r != &rule);
            removed += 1;
        }
        Ok(removed)
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
            if let Err(e) = cluster.run(host, "set a clock", &script) {
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
        for (from, to) in pairs {
            let (src, dst) = (self.node(from)?.ip, self.node(to)?.host);
            self.add_rule(dst, src, Purpose::Partition, &[])?;
        }
        Ok(pairs.len())
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
        let mut added = 0;
        for dst in self.nodes.values() {
            for src in self.nodes.values().filter(|s| s.host != dst.host) {
                self.add_rule(dst.host, src.ip, Purpose::Loss, &extra)?;
                added += 1;
            }
        }
        Ok(added)
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
