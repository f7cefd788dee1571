//! [`Network`]: one run's bridge, node namespaces and veth pairs, the
//! iptables rules and clock offsets in force, and their teardown. Every
//! thing is entered in the run's [`RunRecord`] before it is created, so
//! whatever happens (error part-way, panic, Ctrl-C, SIGKILL of the owner)
//! the record lists all there is to remove. Dropping the network tears it
//! down; [`Network::teardown`] may be called before, any number of times.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use faultline_raft::NodeId;

use super::addr::AddrPlan;
use super::cmd::{ip_cmd, preflight};
use super::error::NetnsError;
use super::faketime::{ClockEnv, Strobe, find_libfaketime, write_offset};
use super::firewall::{Purpose, Rule, host_drops_bridged};
use super::leftovers::{RUN_ENV, RunRecord};
use super::names::RunId;

/// How to build a run's network.
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// The members' ids (1..=240).
    pub nodes: Vec<NodeId>,
    /// Run nodes under libfaketime (needs `libfaketime.so.1`).
    pub faketime: bool,
    /// Fake `CLOCK_MONOTONIC` too (see [`super::faketime`]).
    pub fake_monotonic: bool,
}

impl NetworkOptions {
    pub fn new(nodes: usize) -> NetworkOptions {
        NetworkOptions {
            nodes: (1..=nodes as NodeId).collect(),
            faketime: true,
            fake_monotonic: false,
        }
    }
}

/// One node's place in the network.
#[derive(Debug, Clone)]
pub struct NodeNet {
    pub id: NodeId,
    pub namespace: String,
    pub ip: Ipv4Addr,
    /// Its libfaketime control file.
    pub clock_file: PathBuf,
}

#[derive(Debug)]
struct State {
    record: RunRecord,
    offsets: BTreeMap<NodeId, i64>,
    strobes: BTreeMap<NodeId, Strobe>,
    torn_down: bool,
}

/// A run's namespaces, devices, rules and clocks.
#[derive(Debug)]
pub struct Network {
    run: RunId,
    plan: AddrPlan,
    nodes: BTreeMap<NodeId, NodeNet>,
    /// Node names (empty: a node is named by its id in decimal).
    names: BTreeMap<NodeId, String>,
    clock_env: Option<ClockEnv>,
    state: Mutex<State>,
}

impl Network {
    /// Create the bridge and one namespace per node. Fails with advice when
    /// not root, a tool is missing or namespaces do not work; whatever was
    /// created before a failure is removed.
    pub fn setup(opts: &NetworkOptions) -> Result<Network, NetnsError> {
        preflight()?;
        let clock_env = if opts.faketime {
            Some(ClockEnv {
                library: find_libfaketime()?,
                fake_monotonic: opts.fake_monotonic,
            })
        } else {
            None
        };
        let run = RunId::fresh();
        let plan = AddrPlan::choose(&run)?;
        let record = RunRecord::new(run.clone());
        let dir = record.dir();
        let mut nodes = BTreeMap::new();
        for &id in &opts.nodes {
            let node = NodeNet {
                id,
                namespace: run.namespace(id),
                ip: plan.node_ip(id)?,
                clock_file: dir.join(format!("clock-{id}")),
            };
            nodes.insert(id, node);
        }
        let net = Network {
            run,
            plan,
            nodes,
            names: BTreeMap::new(),
            clock_env,
            state: Mutex::new(State {
                record,
                offsets: BTreeMap::new(),
                strobes: BTreeMap::new(),
                torn_down: false,
            }),
        };
        // From here on, Drop removes what was made.
        net.build()?;
        tracing::info!(run = %net.run, subnet = %net.plan.subnet(), nodes = net.nodes.len(), "network namespaces up");
        Ok(net)
    }

    fn build(&self) -> Result<(), NetnsError> {
        self.lock().record.save()?;
        let br = self.run.bridge();
        let bridge_cidr = format!("{}/24", self.plan.bridge_ip());
        self.note(|r| r.devices.push(br.clone()))?;
        ip_cmd(&["link", "add", &br, "type", "bridge"])?;
        ip_cmd(&["addr", "add", &bridge_cidr, "dev", &br])?;
        ip_cmd(&["link", "set", &br, "up"])?;
        if host_drops_bridged() {
            let rule = Rule::bridge_forward(&self.run, &br);
            self.note(|r| r.rules.push(rule.clone()))?;
            rule.add()?;
        }
        let gateway = self.plan.bridge_ip().to_string();
        for n in self.nodes.values() {
            let ns = n.namespace.as_str();
            let (host, inner) = (self.run.veth_host(n.id), self.run.veth_node(n.id));
            self.note(|r| r.namespaces.push(ns.to_string()))?;
            ip_cmd(&["netns", "add", ns]).map_err(|e| match e {
                NetnsError::Command { stderr, .. } => NetnsError::Unsupported { detail: stderr },
                e => e,
            })?;
            self.note(|r| r.devices.push(host.clone()))?;
            ip_cmd(&[
                "link", "add", &host, "type", "veth", "peer", "name", &inner, "netns", ns,
            ])?;
            ip_cmd(&["link", "set", &host, "master", &br, "up"])?;
            let cidr = format!("{}/24", n.ip);
            ip_cmd(&["-n", ns, "addr", "add", &cidr, "dev", &inner])?;
            ip_cmd(&["-n", ns, "link", "set", &inner, "up"])?;
            ip_cmd(&["-n", ns, "link", "set", "lo", "up"])?;
            ip_cmd(&["-n", ns, "route", "add", "default", "via", &gateway])?;
            if self.clock_env.is_some() {
                self.note(|r| r.files.push(n.clock_file.clone()))?;
                write_offset(&n.clock_file, 0)?;
            }
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Change the record and save it.
    fn note(&self, f: impl FnOnce(&mut RunRecord)) -> Result<(), NetnsError> {
        let mut st = self.lock();
        f(&mut st.record);
        if st.torn_down {
            // Gone already: do not bring the record back.
            return Ok(());
        }
        st.record.save()
    }

    pub fn run_id(&self) -> &RunId {
        &self.run
    }

    pub fn plan(&self) -> AddrPlan {
        self.plan
    }

    /// The node ids, sorted.
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.nodes.keys().copied().collect()
    }

    pub fn node(&self, id: NodeId) -> Result<&NodeNet, NetnsError> {
        self.nodes
            .get(&id)
            .ok_or_else(|| NetnsError::UnknownNode(id.to_string()))
    }

    /// Name every node (e.g. `c1`, `g2n3` in a sharded deployment): from
    /// then on [`Network::node_named`] (and so the `NetControl` methods)
    /// knows nodes by these names only. Every node needs one, all distinct.
    pub fn set_names(&mut self, names: BTreeMap<NodeId, String>) -> Result<(), NetnsError> {
        let distinct: std::collections::BTreeSet<&String> = names.values().collect();
        if names.keys().ne(self.nodes.keys()) || distinct.len() != names.len() {
            return Err(NetnsError::BadParameter(format!(
                "node names {names:?} do not name each of the nodes {:?} once",
                self.node_ids()
            )));
        }
        self.names = names;
        Ok(())
    }

    /// Node `id`'s name: as set by [`Network::set_names`], else its id in
    /// decimal.
    pub fn name(&self, id: NodeId) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// The node named `name` ([`Network::name`]).
    pub fn node_named(&self, name: &str) -> Result<&NodeNet, NetnsError> {
        let name = name.trim();
        let id = if self.names.is_empty() {
            name.parse::<NodeId>().ok()
        } else {
            self.names
                .iter()
                .find(|(_, n)| n.as_str() == name)
                .map(|(&id, _)| id)
        };
        id.and_then(|id| self.nodes.get(&id))
            .ok_or_else(|| NetnsError::UnknownNode(name.to_string()))
    }

    /// The environment for node `id`'s process (`NAME=value` pairs): the
    /// run marker [`RUN_ENV`] (how a cleanup recognises the run's processes)
    /// and, when the network was built with faketime, libfaketime's.
    pub fn node_env(&self, id: NodeId) -> Result<Vec<String>, NetnsError> {
        let n = self.node(id)?;
        let mut vars = vec![format!("{RUN_ENV}={}", self.run)];
        if let Some(env) = &self.clock_env {
            vars.extend(env.vars(&n.clock_file));
        }
        Ok(vars)
    }

    /// Enter a node process's pid in the record (so a cleanup after a crash
    /// can stop it even if its namespace is gone).
    pub fn record_pid(&self, pid: u32) -> Result<(), NetnsError> {
        self.note(|r| {
            if !r.pids.contains(&pid) {
                r.pids.push(pid);
            }
        })
    }

    /// The rules in force now.
    pub fn rules(&self) -> Vec<Rule> {
        self.lock().record.rules.clone()
    }

    /// Add `rule`: recorded first, then applied.
    fn add_rule(&self, rule: Rule) -> Result<(), NetnsError> {
        self.note(|r| r.rules.push(rule.clone()))?;
        if let Err(e) = rule.add() {
            self.note(|r| r.rules.retain(|x| x != &rule))?;
            return Err(e);
        }
        Ok(())
    }

    /// Remove every rule of `purpose`; the number removed. A rule whose
    /// deletion fails stays recorded (and the error is returned).
    pub fn remove_rules(&self, purpose: Purpose) -> Result<usize, NetnsError> {
        let todo: Vec<Rule> = self
            .rules()
            .into_iter()
            .filter(|r| r.purpose == purpose)
            .collect();
        let mut removed = 0;
        for rule in todo {
            rule.delete()?;
            self.note(|r| r.rules.retain(|x| x != &rule))?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Drop all packets from node `from` to node `to`.
    pub fn cut(&self, from: NodeId, to: NodeId) -> Result<(), NetnsError> {
        let (src, dst) = (self.node(from)?, self.node(to)?);
        self.add_rule(Rule::drop_from(&self.run, &dst.namespace, src.ip))
    }

    /// Drop packets between every two nodes with probability `p` (replacing
    /// the loss in force); the number of rules added.
    pub fn set_loss(&self, p: f64) -> Result<usize, NetnsError> {
        // Validate before touching the loss in force.
        Rule::lose_from(&self.run, "", self.plan.bridge_ip(), p)?;
        self.remove_rules(Purpose::Loss)?;
        let mut added = 0;
        for dst in self.nodes.values() {
            for src in self.nodes.values().filter(|s| s.id != dst.id) {
                self.add_rule(Rule::lose_from(&self.run, &dst.namespace, src.ip, p)?)?;
                added += 1;
            }
        }
        Ok(added)
    }

    /// [`Network::set_loss`], and also drop packets from the host (the
    /// bridge: clients, status requests) into every node with probability
    /// `p`, so client links are lossy too; [`Network::remove_rules`] of
    /// [`Purpose::Loss`] heals both. The number of rules added.
    pub fn set_loss_including_host(&self, p: f64) -> Result<usize, NetnsError> {
        let mut added = self.set_loss(p)?;
        for dst in self.nodes.values() {
            let rule = Rule::lose_from(&self.run, &dst.namespace, self.plan.bridge_ip(), p)?;
            self.add_rule(rule)?;
            added += 1;
        }
        Ok(added)
    }

    /// Set node `id`'s clock offset (ms), ending a strobe on it.
    pub fn set_clock(&self, id: NodeId, offset_ms: i64) -> Result<(), NetnsError> {
        let file = self.clock_file(id)?;
        let mut st = self.lock();
        if let Some(mut s) = st.strobes.remove(&id) {
            s.stop();
        }
        write_offset(&file, offset_ms)?;
        st.offsets.insert(id, offset_ms);
        Ok(())
    }

    /// Node `id`'s offset (ms) as last set (a strobe counts as its first).
    pub fn clock(&self, id: NodeId) -> Result<i64, NetnsError> {
        self.clock_file(id)?;
        Ok(self.lock().offsets.get(&id).copied().unwrap_or(0))
    }

    /// Flip node `id`'s offset between `a` and `b` ms every `period` for
    /// `duration` in a background thread.
    pub fn strobe_clock(
        &self,
        id: NodeId,
        (a, b): (i64, i64),
        period: Duration,
        duration: Duration,
    ) -> Result<(), NetnsError> {
        if period.is_zero() {
            return Err(NetnsError::BadParameter("strobe period is zero".into()));
        }
        let file = self.clock_file(id)?;
        let mut st = self.lock();
        if let Some(mut s) = st.strobes.remove(&id) {
            s.stop();
        }
        st.strobes
            .insert(id, Strobe::start(file, a, b, period, duration));
        st.offsets.insert(id, a);
        Ok(())
    }

    /// Make node `id`'s clock run at `rate_pct` % of real time for
    /// `duration` (a background thread moves its offset every few ms, see
    /// [`Strobe::drift`]); it then keeps the offset it reached.
    pub fn drift_clock(
        &self,
        id: NodeId,
        rate_pct: u32,
        duration: Duration,
    ) -> Result<(), NetnsError> {
        if rate_pct == 0 {
            return Err(NetnsError::BadParameter("clock rate 0 %".into()));
        }
        let file = self.clock_file(id)?;
        let mut st = self.lock();
        if let Some(mut s) = st.strobes.remove(&id) {
            s.stop();
        }
        let base = st.offsets.get(&id).copied().unwrap_or(0);
        st.strobes
            .insert(id, Strobe::drift(file, base, rate_pct, duration));
        Ok(())
    }

    /// End every strobe and set every clock to the real time.
    pub fn reset_clocks(&self) -> Result<(), NetnsError> {
        let strobes = std::mem::take(&mut self.lock().strobes);
        drop(strobes);
        for id in self.node_ids() {
            if self.clock_env.is_some() {
                self.set_clock(id, 0)?;
            }
        }
        Ok(())
    }

    fn clock_file(&self, id: NodeId) -> Result<PathBuf, NetnsError> {
        let n = self.node(id)?;
        if self.clock_env.is_none() {
            return Err(NetnsError::BadParameter(
                "clock faults need the network built with faketime".into(),
            ));
        }
        Ok(n.clock_file.clone())
    }

    /// Remove everything of this run (processes still in its namespaces
    /// included). Idempotent; safe to call from a signal-handling thread.
    pub fn teardown(&self) -> Vec<String> {
        let (strobes, record) = {
            let mut st = self.lock();
            if st.torn_down {
                return Vec::new();
            }
            st.torn_down = true;
            (std::mem::take(&mut st.strobes), st.record.clone())
        };
        drop(strobes);
        let problems = record.teardown();
        for p in &problems {
            tracing::warn!(run = %self.run, problem = %p, "teardown");
        }
        problems
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.teardown();
    }
}
