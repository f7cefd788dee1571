//! The simulation engine: virtual time, an event queue, the nodes, the
//! network and the checker. It drives every core with the test kit's Ready
//! driver, exactly as the contract of `Ready` says: immediate messages go
//! out at once, the snapshot, entries and hard state are written to the
//! node's disk, only then do persisted messages go out, committed entries
//! are applied and read states checked.
//!
//! A *step* is one event taken off the queue: one tick of one node, one
//! message delivery (or drop), one timer of the driver (a client operation or
//! a fault action) or one delayed crash/restart.
//!
//! Modules: `events` (the queue and what each event does), `ready` (a
//! node's Ready loop and sending), `faults` (crashes, restarts and the
//! network faults the schedule asks for), `clients` (proposals, reads and
//! the liveness watch), `membership` (membership changes an operator asks
//! a leader for).

mod clients;
mod events;
mod faults;
mod membership;
mod ready;

use std::collections::BinaryHeap;

use faultline_raft::{BugSet, Config, NodeId, ReadMode};

use super::error::SimError;
use super::invariants::{Breach, Invariants, Property};
use super::network::Network;
use super::node::SimNode;
use super::rng::{Rng, mix};
use super::trace::Trace;

use clients::ProgressWatch;
pub use clients::{command, command_id, is_response};
pub use events::Delayed;
use events::Event;

/// Virtual time units per tick (think milliseconds: a tick is 10 ms).
pub const TICK: u64 = 10;

/// How a world is built: cluster size, core configuration and app behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldConfig {
    /// Nodes in the world (voters and spares).
    pub servers: usize,
    /// The group's initial voters are nodes 1..=voters; the others are
    /// spares, running outside the group until a membership change adds
    /// them. Equal to `servers` unless membership changes are on.
    pub voters: usize,
    pub seed: u64,
    pub bugs: BugSet,
    pub election_tick: u32,
    pub heartbeat_tick: u32,
    pub max_entries_per_msg: usize,
    pub max_inflight: usize,
    pub pre_vote: bool,
    pub check_quorum: bool,
    /// Each node snapshots after this many applied entries (0: never).
    pub snapshot_every: u64,
    /// How leaders serve reads (lease mode: leader leases).
    pub read_mode: ReadMode,
    /// The clock drift bound the cores' leases allow for, in percent.
    pub max_clock_drift_pct: u32,
    /// Each node's clock rate in percent of true time (100: exact): node
    /// `i` ticks every `TICK * 100 / rate` time units on average. Empty: all
    /// exact (then ticks come exactly every `TICK`, as without rates).
    pub clock_rates_pct: Vec<u32>,
}

impl WorldConfig {
    /// etcd-like defaults for `servers` nodes.
    pub fn new(servers: usize, seed: u64) -> WorldConfig {
        WorldConfig {
            servers,
            voters: servers,
            seed,
            bugs: BugSet::new(),
            election_tick: 10,
            heartbeat_tick: 1,
            max_entries_per_msg: 64,
            max_inflight: 8,
            pre_vote: true,
            check_quorum: true,
            snapshot_every: 0,
            read_mode: ReadMode::ReadIndex,
            max_clock_drift_pct: faultline_raft::DEFAULT_MAX_CLOCK_DRIFT_PCT,
            clock_rates_pct: Vec::new(),
        }
    }
}

/// A broken property, when and where in the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub property: Property,
    pub detail: String,
    pub time: u64,
    pub step: u64,
}

/// Counters of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub messages_sent: u64,
    /// Sent messages that are not replies (RPCs, as the lab counts them).
    pub requests_sent: u64,
    pub messages_delivered: u64,
    pub proposals: u64,
    pub reads: u64,
    pub read_states: u64,
    pub crashes: u64,
    pub snapshots: u64,
}

/// The simulated cluster.
#[derive(Debug)]
pub struct World {
    pub cfg: WorldConfig,
    now: u64,
    steps: u64,
    seq: u64,
    queue: BinaryHeap<Event>,
    pub nodes: Vec<SimNode>,
    pub net: Network,
    pub inv: Invariants,
    pub trace: Trace,
    violation: Option<Violation>,
    /// Crash this node at its next write, before it is durable.
    armed: Vec<bool>,
    /// Probability that a node granting a vote is crashed and restarted right after.
    pub bounce_voters: f64,
    /// Whether delayed crashes still strike (false once the driver healed everything).
    pub faults_enabled: bool,
    fault_rng: Rng,
    next_value: u64,
    next_read: u64,
    pub stats: Stats,
    watch: Option<ProgressWatch>,
    /// Per node: the remainder of its last tick gap, in 1/rate units.
    tick_acc: Vec<u64>,
}

impl World {
    /// Builds and starts every node.
    pub fn new(cfg: WorldConfig, trace: Trace) -> Result<World, SimError> {
        if cfg.servers == 0 {
            return Err(SimError::InvalidOptions("need at least one server".into()));
        }
        if cfg.voters == 0 || cfg.voters > cfg.servers {
            return Err(SimError::InvalidOptions(format!(
                "the initial voters must be between 1 and the {} servers, got {}",
                cfg.servers, cfg.voters
            )));
        }
        if cfg.election_tick == 0 || cfg.heartbeat_tick == 0 {
            return Err(SimError::InvalidOptions(
                "election and heartbeat ticks must be positive".into(),
            ));
        }
        let n = cfg.servers;
        if !cfg.clock_rates_pct.is_empty()
            && (cfg.clock_rates_pct.len() != n || cfg.clock_rates_pct.contains(&0))
        {
            return Err(SimError::InvalidOptions(format!(
                "need one positive clock rate per server, got {:?}",
                cfg.clock_rates_pct
            )));
        }
        let mut world = World {
            nodes: (0..n)
                .map(|i| SimNode::new(i as u64 + 1, cfg.snapshot_every))
                .collect(),
            net: Network::new(n, Rng::new(cfg.seed, 1)),
            inv: Invariants::new(n),
            trace,
            now: 0,
            steps: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            violation: None,
            armed: vec![false; n],
            bounce_voters: 0.0,
            faults_enabled: true,
            fault_rng: Rng::new(cfg.seed, 2),
            next_value: 1,
            next_read: 1,
            stats: Stats::default(),
            watch: None,
            tick_acc: vec![0; n],
            cfg,
        };
        for i in 0..n {
            world.start_node(i)?;
        }
        Ok(world)
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    pub fn majority(&self) -> usize {
        self.nodes.len() / 2 + 1
    }

    /// The first violation found, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// The group's initial voters (every node, unless some are spares).
    fn peers(&self) -> Vec<NodeId> {
        (1..=self.cfg.voters as u64).collect()
    }

    /// The core configuration of node `i` in its current life.
    fn node_config(&self, i: usize) -> Config {
        let node = &self.nodes[i];
        let seed = mix(mix(self.cfg.seed, node.id), u64::from(node.incarnation));
        let mut c = Config::new(node.id, self.peers(), seed);
        c.election_tick = self.cfg.election_tick;
        c.heartbeat_tick = self.cfg.heartbeat_tick;
        c.max_entries_per_msg = self.cfg.max_entries_per_msg;
        c.max_inflight = self.cfg.max_inflight;
        c.pre_vote = self.cfg.pre_vote;
        c.check_quorum = self.cfg.check_quorum;
        c.bugs = self.cfg.bugs.clone();
        c.read_mode = self.cfg.read_mode;
        c.max_clock_drift_pct = self.cfg.max_clock_drift_pct;
        c
    }

    /// The time until node `i`'s next tick: `TICK` on an exact clock; on a
    /// clock at `rate` percent, gaps that average `TICK * 100 / rate`.
    fn tick_gap(&mut self, i: usize) -> u64 {
        let Some(&rate) = self.cfg.clock_rates_pct.get(i) else {
            return TICK;
        };
        let rate = u64::from(rate);
        let total = self.tick_acc[i] + TICK * 100;
        self.tick_acc[i] = total % rate;
        (total / rate).max(1)
    }

    /// Adds a trace line (only built when tracing is on).
    fn note(&mut self, line: impl FnOnce() -> String) {
        // The trace ends at the first violation.
        if self.trace.enabled() && self.violation.is_none() {
            let l = line();
            self.trace.push(self.now, &l);
        }
    }

    /// Keeps the first violation of the run.
    fn record(&mut self, result: Result<(), Breach>) {
        if let Err(b) = result
            && self.violation.is_none()
        {
            let (time, step) = (self.now, self.steps);
            self.note(|| format!("VIOLATION {}: {}", b.property, b.detail));
            self.violation = Some(Violation {
                property: b.property,
                detail: b.detail,
                time,
                step,
            });
        }
    }

    /// Records a violation found by the driver (liveness).
    pub fn report(&mut self, property: Property, detail: String) {
        self.record(Err(Breach { property, detail }));
    }
}
