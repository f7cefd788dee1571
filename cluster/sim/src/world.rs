//! The simulation engine: virtual time, an event queue (node ticks, message
//! deliveries, timers of the driver, delayed fault actions), the nodes, the
//! network and the checker. It drives every core exactly as the contract of
//! `Ready` says: immediate messages go out at once, the snapshot, entries and
//! hard state are written to the node's disk, only then do persisted messages
//! go out, committed entries are applied and read states checked.
//!
//! A *step* is one event taken off the queue: one tick of one node, one
//! message delivery (or drop), one timer of the driver (a client operation or
//! a fault action) or one delayed crash/restart.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use faultline_raft::{BugSet, Config, Index, Message, MessageBody, NodeId, RaftError, Role};

use super::disk::Disk;
use super::error::SimError;
use super::invariants::{Breach, Invariants, Property, is_command};
use super::network::{Network, describe_groups};
use super::node::{AppState, SimNode};
use super::rng::{Rng, mix};
use super::trace::{Trace, fmt_message};

/// Virtual time units per tick (think milliseconds: a tick is 10 ms).
pub const TICK: u64 = 10;

/// How a world is built: cluster size, core configuration and app behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldConfig {
    pub servers: usize,
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
}

impl WorldConfig {
    /// etcd-like defaults for `servers` nodes.
    pub fn new(servers: usize, seed: u64) -> WorldConfig {
        WorldConfig {
            servers,
            seed,
            bugs: BugSet::new(),
            election_tick: 10,
            heartbeat_tick: 1,
            max_entries_per_msg: 64,
            max_inflight: 8,
            pre_vote: true,
            check_quorum: true,
            snapshot_every: 0,
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

/// Actions the driver or the network can schedule for later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delayed {
    Crash(usize),
    Restart(usize),
    /// Restore every link of a node.
    Reconnect(usize),
    /// Crash whichever running nodes believe they lead.
    CrashLeader,
}

#[derive(Debug)]
enum EventKind {
    Tick { node: usize, life: u32 },
    Deliver(Message),
    Timer(u32),
    Action(Delayed),
}

#[derive(Debug)]
struct Event {
    time: u64,
    seq: u64,
    kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed: the heap pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
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

/// Watches for liveness: commands with an id at or above `floor` that a
/// majority applied.
#[derive(Debug, Clone)]
struct ProgressWatch {
    floor: u64,
    counts: HashMap<u64, usize>,
    done_at: Option<u64>,
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
}

/// The client command with id `v`.
pub fn command(v: u64) -> Vec<u8> {
    format!("v{v}").into_bytes()
}

/// The id of a client command (`v17` -> 17).
pub fn command_id(data: &[u8]) -> Option<u64> {
    std::str::from_utf8(data.strip_prefix(b"v")?)
        .ok()?
        .parse()
        .ok()
}

/// Whether a message is a reply (not counted as an RPC).
pub fn is_response(body: &MessageBody) -> bool {
    matches!(
        body,
        MessageBody::PreVoteResponse { .. }
            | MessageBody::RequestVoteResponse { .. }
            | MessageBody::AppendEntriesResponse { .. }
            | MessageBody::HeartbeatResponse { .. }
    )
}

fn read_id(ctx: &[u8]) -> Option<u64> {
    std::str::from_utf8(ctx.strip_prefix(b"r")?)
        .ok()?
        .parse()
        .ok()
}

impl World {
    /// Builds and starts every node.
    pub fn new(cfg: WorldConfig, trace: Trace) -> Result<World, SimError> {
        if cfg.servers == 0 {
            return Err(SimError::InvalidOptions("need at least one server".into()));
        }
        if cfg.election_tick == 0 || cfg.heartbeat_tick == 0 {
            return Err(SimError::InvalidOptions(
                "election and heartbeat ticks must be positive".into(),
            ));
        }
        let n = cfg.servers;
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

    fn peers(&self) -> Vec<NodeId> {
        (1..=self.nodes.len() as u64).collect()
    }

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
        c
    }

    fn push(&mut self, time: u64, kind: EventKind) {
        self.seq += 1;
        self.queue.push(Event {
            time,
            seq: self.seq,
            kind,
        });
    }

    /// Asks for `step()` to return `Some(id)` at `time`.
    pub fn set_timer(&mut self, time: u64, id: u32) {
        self.push(time.max(self.now), EventKind::Timer(id));
    }

    /// Schedules a crash or restart `delay` time units from now.
    pub fn schedule(&mut self, delay: u64, action: Delayed) {
        self.push(self.now + delay, EventKind::Action(action));
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        // The trace ends at the first violation.
        if self.trace.enabled() && self.violation.is_none() {
            let l = line();
            self.trace.push(self.now, &l);
        }
    }

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

    /// Takes the next event; returns the timer id when it was a driver timer,
    /// `None` when it was handled inside, or when nothing is left.
    pub fn step(&mut self) -> Option<u32> {
        let ev = self.queue.pop()?;
        self.now = ev.time;
        self.steps += 1;
        match ev.kind {
            EventKind::Tick { node, life } => {
                if self.nodes[node].incarnation == life
                    && let Some(raw) = self.nodes[node].raw.as_mut()
                {
                    raw.tick();
                    self.push(self.now + TICK, EventKind::Tick { node, life });
                    self.drain(node);
                }
                None
            }
            EventKind::Deliver(msg) => {
                self.deliver(msg);
                None
            }
            EventKind::Timer(id) => Some(id),
            EventKind::Action(Delayed::Crash(i)) => {
                if self.faults_enabled {
                    self.crash(i);
                }
                None
            }
            EventKind::Action(Delayed::Restart(i)) => {
                self.restart(i);
                None
            }
            EventKind::Action(Delayed::Reconnect(i)) => {
                self.set_isolated(i, false);
                None
            }
            EventKind::Action(Delayed::CrashLeader) => {
                let leaders = if self.faults_enabled {
                    self.leaders()
                } else {
                    Vec::new()
                };
                for i in leaders {
                    self.crash(i);
                }
                None
            }
        }
    }

    /// Whether nothing is left to happen.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Runs every event up to and including time `until`; stops early at a violation.
    pub fn run_until(&mut self, until: u64) {
        while self.violation.is_none() {
            match self.queue.peek() {
                Some(ev) if ev.time <= until => {
                    self.step();
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    fn deliver(&mut self, msg: Message) {
        let (from, to) = ((msg.from - 1) as usize, (msg.to - 1) as usize);
        if !self.net.connected(from, to) {
            self.note(|| format!("n{} -x n{} {} (cut)", msg.from, msg.to, fmt_message(&msg)));
            return;
        }
        if !self.nodes[to].alive() {
            self.note(|| {
                format!(
                    "n{} -x n{} {} (n{} down)",
                    msg.from,
                    msg.to,
                    fmt_message(&msg),
                    msg.to
                )
            });
            return;
        }
        self.note(|| format!("n{} -> n{} {}", msg.from, msg.to, fmt_message(&msg)));
        self.stats.messages_delivered += 1;
        if let Some(raw) = self.nodes[to].raw.as_mut() {
            // A refused message (unknown peer) is dropped, as a server would.
            let _ = raw.step(msg);
        }
        self.drain(to);
    }

    fn send(&mut self, msg: Message) {
        self.stats.messages_sent += 1;
        if !is_response(&msg.body) {
            self.stats.requests_sent += 1;
        }
        let (from, to) = ((msg.from - 1) as usize, (msg.to - 1) as usize);
        if self.bounce_voters > 0.0
            && matches!(msg.body, MessageBody::RequestVoteResponse { reject: false })
            && self.fault_rng.chance(self.bounce_voters)
        {
            let down = self.fault_rng.range(0, 1);
            let up = down + self.fault_rng.range(1, 3);
            self.schedule(down, Delayed::Crash(from));
            self.schedule(up, Delayed::Restart(from));
        }
        if to >= self.nodes.len() || !self.net.connected(from, to) {
            self.note(|| format!("n{} -x n{} {} (cut)", msg.from, msg.to, fmt_message(&msg)));
            return;
        }
        let fate = self.net.fate();
        match fate.copies {
            [None, _] => {
                self.note(|| format!("n{} -x n{} {} (lost)", msg.from, msg.to, fmt_message(&msg)));
            }
            [Some(d), None] => self.push(self.now + d, EventKind::Deliver(msg)),
            [Some(d1), Some(d2)] => {
                self.push(self.now + d1, EventKind::Deliver(msg.clone()));
                self.push(self.now + d2, EventKind::Deliver(msg));
            }
        }
    }

    /// Handles every `Ready` of node `i`, then snapshots if it is time.
    fn drain(&mut self, i: usize) {
        loop {
            while self.nodes[i].raw.as_ref().is_some_and(|r| r.has_ready()) {
                if !self.handle_ready(i) {
                    return;
                }
            }
            let voters = self.peers();
            match self.nodes[i].maybe_compact(&voters) {
                Some(index) => {
                    self.stats.snapshots += 1;
                    let id = self.nodes[i].id;
                    self.note(|| format!("n{id} snapshot at index {index}"));
                }
                None => return,
            }
        }
    }

    /// Handles one `Ready`; false when the node crashed while doing so.
    fn handle_ready(&mut self, i: usize) -> bool {
        let id = self.nodes[i].id;
        let Some(raw) = self.nodes[i].raw.as_mut() else {
            return false;
        };
        let mut rd = raw.ready();

        if let Some(hs) = &rd.hard_state {
            self.nodes[i].term = hs.term;
        }
        if let Some(ss) = &rd.soft_state {
            let (role, term) = (ss.role, self.nodes[i].term);
            if role != self.nodes[i].role {
                self.note(|| format!("n{id} becomes {role:?} (term {term})"));
            }
            self.nodes[i].role = role;
            let r = self.inv.on_role(id, role, term);
            self.record(r);
        }

        for m in std::mem::take(&mut rd.messages) {
            self.send(m);
        }

        let writes = rd.hard_state.is_some() || !rd.entries.is_empty() || rd.snapshot.is_some();
        if writes && self.armed[i] {
            self.armed[i] = false;
            let lost = rd.entries.len();
            self.note(|| format!("crash n{id} before its write is durable ({lost} entries lost)"));
            self.crash_now(i);
            return false;
        }

        if let Some(snap) = &rd.snapshot {
            self.nodes[i].disk.store_snapshot(snap.clone());
        }
        if !rd.entries.is_empty() {
            let r = self.inv.on_entries(id, &rd.entries);
            self.record(r);
            self.nodes[i].disk.append(&rd.entries);
        }
        if let Some(hs) = &rd.hard_state {
            self.nodes[i].disk.hard_state = hs.clone();
        }
        if let Some(snap) = &rd.snapshot {
            let (index, term) = (snap.meta.index, snap.meta.term);
            if index > self.nodes[i].app.applied {
                let state = AppState::decode(&snap.data);
                let r = self.inv.on_restore(id, index, state);
                self.record(r);
                self.nodes[i].app = state.unwrap_or_default();
                self.note(|| format!("n{id} installs snapshot at (i{index},t{term})"));
            }
            let entries = self.nodes[i]
                .raw
                .as_ref()
                .map(|r| r.log_entries().to_vec())
                .unwrap_or_default();
            let r = self.inv.reset_log(id, index, term, &entries);
            self.record(r);
        }
        if let Some(hs) = &rd.hard_state
            && hs.commit != self.nodes[i].commit
        {
            let commit = hs.commit;
            self.nodes[i].commit = commit;
            let r = self.inv.on_commit(id, commit);
            self.record(r);
        }

        for m in std::mem::take(&mut rd.persisted_messages) {
            self.send(m);
        }

        for e in &rd.committed_entries {
            let before = self.nodes[i].app;
            let after = before.after(e);
            let r = self.inv.on_apply(id, e, before, after);
            self.record(r);
            self.nodes[i].app = after;
            if is_command(e) {
                self.watch_apply(e);
            }
        }

        for rs in &rd.read_states {
            self.stats.read_states += 1;
            let rid = read_id(&rs.ctx);
            let applied = self.nodes[i].app.applied;
            self.note(|| {
                format!(
                    "n{id} read state {:?} at index {} (applied {applied})",
                    String::from_utf8_lossy(&rs.ctx),
                    rs.index
                )
            });
            let r = self.inv.on_read_state(id, rid, rs);
            self.record(r);
        }

        if let Some(raw) = self.nodes[i].raw.as_mut() {
            raw.advance(rd);
        }
        true
    }

    fn watch_apply(&mut self, e: &faultline_raft::Entry) {
        let majority = self.majority();
        let now = self.now;
        let Some(w) = self.watch.as_mut() else { return };
        if w.done_at.is_some() {
            return;
        }
        let Some(v) = command_id(&e.data) else { return };
        if v < w.floor {
            return;
        }
        let c = w.counts.entry(v).or_insert(0);
        *c += 1;
        if *c >= majority {
            w.done_at = Some(now);
        }
    }

    /// From now on, watch for a command proposed from now on to be applied by a majority.
    pub fn watch_progress(&mut self) {
        self.watch = Some(ProgressWatch {
            floor: self.next_value,
            counts: HashMap::new(),
            done_at: None,
        });
    }

    /// When the watched progress happened.
    pub fn progress_at(&self) -> Option<u64> {
        self.watch.as_ref().and_then(|w| w.done_at)
    }

    fn start_node(&mut self, i: usize) -> Result<(), SimError> {
        let config = self.node_config(i);
        let id = self.nodes[i].id;
        self.nodes[i]
            .start(config)
            .map_err(|source| SimError::Start { node: id, source })?;
        let disk: &Disk = &self.nodes[i].disk;
        let (snap_index, snap_term) = disk
            .snapshot
            .as_ref()
            .map_or((0, 0), |s| (s.meta.index, s.meta.term));
        let commit = disk.hard_state.commit;
        let entries = disk.entries.clone();
        let app = self.nodes[i].app;
        self.inv.forget_role(id, commit);
        let r = self.inv.reset_log(id, snap_index, snap_term, &entries);
        self.record(r);
        if snap_index > 0 {
            let r = self.inv.on_restore(id, snap_index, Some(app));
            self.record(r);
        }
        let life = self.nodes[i].incarnation;
        let phase = self.fault_rng.range(1, TICK);
        self.push(self.now + phase, EventKind::Tick { node: i, life });
        self.drain(i);
        Ok(())
    }

    fn crash_now(&mut self, i: usize) {
        let id = self.nodes[i].id;
        self.nodes[i].crash();
        self.stats.crashes += 1;
        let commit = self.nodes[i].disk.hard_state.commit;
        self.inv.forget_role(id, commit);
        self.inv.drop_reads_of(id);
    }

    /// Crashes node `i` (index from 0): everything not on its disk is lost.
    pub fn crash(&mut self, i: usize) {
        if !self.nodes[i].alive() {
            return;
        }
        let id = self.nodes[i].id;
        self.note(|| format!("crash n{id}"));
        self.crash_now(i);
    }

    /// Crashes node `i` at its next write, after its immediate messages left
    /// but before anything of that write is durable.
    pub fn crash_at_next_write(&mut self, i: usize) {
        if self.nodes[i].alive() {
            self.armed[i] = true;
        }
    }

    /// Cancels every pending crash-at-next-write.
    pub fn disarm_all(&mut self) {
        self.armed.iter_mut().for_each(|a| *a = false);
    }

    /// Restarts node `i` from its disk (no-op when it is running).
    pub fn restart(&mut self, i: usize) {
        if self.nodes[i].alive() {
            return;
        }
        self.armed[i] = false;
        let id = self.nodes[i].id;
        let d = &self.nodes[i].disk;
        let (hs, snap, last) = (d.hard_state.clone(), d.snapshot_index(), d.last_index());
        self.note(|| {
            format!(
                "restart n{id} (term {}, vote {:?}, commit {}, snapshot {snap}, last index {last})",
                hs.term, hs.vote, hs.commit
            )
        });
        if let Err(e) = self.start_node(i) {
            self.report(
                Property::Liveness,
                format!("n{id} could not restart from its disk: {e}"),
            );
        }
    }

    /// Entries node `i` holds beyond its commit index.
    pub fn backlog(&self, i: usize) -> u64 {
        let node = &self.nodes[i];
        node.disk.last_index().saturating_sub(node.commit)
    }

    /// Node indices that are running.
    pub fn alive(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].alive())
            .collect()
    }

    /// Running nodes that believe they are leader.
    pub fn leaders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].alive() && self.nodes[i].role == Role::Leader)
            .collect()
    }

    /// Splits the network into groups of node indices.
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        self.net.partition(groups);
        self.note(|| format!("partition {}", describe_groups(groups)));
    }

    /// Cuts or restores one direction of one link.
    pub fn set_link(&mut self, from: usize, to: usize, up: bool) {
        self.net.set_link(from, to, up);
        self.note(|| {
            format!(
                "link n{} -> n{} {}",
                from + 1,
                to + 1,
                if up { "up" } else { "cut" }
            )
        });
    }

    /// Cuts (or restores) node `i` from everyone.
    pub fn set_isolated(&mut self, i: usize, isolated: bool) {
        self.net.set_isolated(i, isolated);
        self.note(|| {
            format!(
                "{} n{}",
                if isolated { "isolate" } else { "reconnect" },
                i + 1
            )
        });
    }

    /// Restores every link.
    pub fn heal_links(&mut self) {
        self.net.heal_links();
        self.note(|| "heal all links".to_string());
    }

    /// Sets loss, duplication and delays.
    pub fn set_link_faults(&mut self, faults: super::network::LinkFaults) {
        self.net.faults = faults;
        self.note(|| {
            format!(
                "network loss {:.2} dup {:.2} delay {}..{} long-reorder {:.2}",
                faults.loss,
                faults.duplicate,
                faults.min_delay,
                faults.max_delay,
                faults.long_reorder
            )
        });
    }

    /// Proposes a fresh client command at node `i`: its id, and the index or why not.
    pub fn propose(&mut self, i: usize) -> (u64, Result<Index, RaftError>) {
        let v = self.next_value;
        self.next_value += 1;
        (v, self.propose_data(i, command(v)))
    }

    /// Proposes `data` at node `i`.
    pub fn propose_data(&mut self, i: usize, data: Vec<u8>) -> Result<Index, RaftError> {
        self.stats.proposals += 1;
        let id = self.nodes[i].id;
        let Some(raw) = self.nodes[i].raw.as_mut() else {
            return Err(RaftError::ProposalDropped("node is down"));
        };
        let shown = String::from_utf8_lossy(&data).into_owned();
        let result = raw.propose(data);
        match &result {
            Ok(index) => self.note(|| format!("client propose {shown:?} -> n{id}: index {index}")),
            Err(e) => self.note(|| format!("client propose {shown:?} -> n{id}: {e}")),
        }
        self.drain(i);
        result
    }

    /// Asks node `i` for a ReadIndex; returns the read id.
    pub fn read(&mut self, i: usize) -> Result<u64, RaftError> {
        let rid = self.next_read;
        self.next_read += 1;
        self.stats.reads += 1;
        let id = self.nodes[i].id;
        let Some(raw) = self.nodes[i].raw.as_mut() else {
            return Err(RaftError::ProposalDropped("node is down"));
        };
        self.inv.on_read_request(rid, id);
        let floor = self.inv.max_applied();
        let result = raw.read_index(format!("r{rid}").into_bytes());
        match &result {
            Ok(()) => self
                .note(|| format!("client read \"r{rid}\" -> n{id} (acknowledged up to {floor})")),
            Err(e) => self.note(|| format!("client read \"r{rid}\" -> n{id}: {e}")),
        }
        if result.is_err() {
            self.inv.forget_read(rid);
        }
        self.drain(i);
        result.map(|()| rid)
    }

    /// Campaigns at node `i` now.
    pub fn campaign(&mut self, i: usize) {
        if let Some(raw) = self.nodes[i].raw.as_mut() {
            raw.campaign();
            self.drain(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_round_trip() {
        assert_eq!(command_id(&command(17)), Some(17));
        assert_eq!(command_id(b"x17"), None);
        assert_eq!(read_id(b"r5"), Some(5));
    }

    #[test]
    fn events_pop_in_time_then_sequence_order() {
        let mut heap = BinaryHeap::new();
        heap.push(Event {
            time: 5,
            seq: 1,
            kind: EventKind::Timer(1),
        });
        heap.push(Event {
            time: 3,
            seq: 2,
            kind: EventKind::Timer(2),
        });
        heap.push(Event {
            time: 3,
            seq: 3,
            kind: EventKind::Timer(3),
        });
        let order: Vec<u64> = std::iter::from_fn(|| heap.pop().map(|e| e.seq)).collect();
        assert_eq!(order, vec![2, 3, 1]);
    }
}
