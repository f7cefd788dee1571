//! A scripted API over the simulator for scenario tests, after the MIT
//! 6.5840 Raft lab's `config.go`: connect / disconnect servers, crash and
//! start them, make the network unreliable, submit commands, and wait for
//! agreement with the lab's time limits (virtual milliseconds here). Every
//! step is still checked against the Raft invariants; any violation turns
//! the next call into an error.
//!
//! Timing follows the lab: a tick is 10 ms, heartbeats every 100 ms,
//! election timeouts of 300-600 ms, `ELECTION_TIMEOUT` = 1 s.

use faultline_raft::{Index, RaftError, Term};

use super::error::SimError;
use super::network::LinkFaults;
use super::rng::Rng;
use super::trace::Trace;
use super::world::{World, WorldConfig, command, command_id};

/// The lab's `RaftElectionTimeout`, in virtual milliseconds.
pub const ELECTION_TIMEOUT: u64 = 1000;

/// A scripted cluster (servers are numbered from 0, as in the lab).
#[derive(Debug)]
pub struct Cluster {
    world: World,
    connected: Vec<bool>,
    rng: Rng,
}

impl Cluster {
    /// `n` servers, a reliable network, no snapshots.
    pub fn new(n: usize, seed: u64) -> Result<Cluster, SimError> {
        Cluster::with(n, seed, false, 0)
    }

    /// `n` servers; `unreliable` drops and delays messages; servers snapshot
    /// every `snapshot_every` applied entries (0: never).
    pub fn with(
        n: usize,
        seed: u64,
        unreliable: bool,
        snapshot_every: u64,
    ) -> Result<Cluster, SimError> {
        let mut cfg = WorldConfig::new(n, seed);
        cfg.election_tick = 30;
        cfg.heartbeat_tick = 10;
        cfg.snapshot_every = snapshot_every;
        Cluster::from_config(cfg, unreliable, Trace::keeping(40))
    }

    /// A cluster with an explicit configuration.
    pub fn from_config(
        cfg: WorldConfig,
        unreliable: bool,
        trace: Trace,
    ) -> Result<Cluster, SimError> {
        let n = cfg.servers;
        let seed = cfg.seed;
        let mut world = World::new(cfg, trace)?;
        if unreliable {
            world.set_link_faults(LinkFaults::unreliable());
        }
        Ok(Cluster {
            world,
            connected: vec![true; n],
            rng: Rng::new(seed, 9),
        })
    }

    pub fn n(&self) -> usize {
        self.world.size()
    }

    /// The engine underneath, for checks the lab does not have.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// A random value from the test's own stream.
    pub fn rand(&mut self, below: u64) -> u64 {
        self.rng.below(below.max(1))
    }

    /// Fails if any invariant broke so far, with the trace tail.
    pub fn check(&self) -> Result<(), SimError> {
        match self.world.violation() {
            None => Ok(()),
            Some(v) => Err(SimError::Scenario(format!(
                "{} violated at t={}: {}\n{}",
                v.property,
                v.time,
                v.detail,
                self.world.trace.tail().join("\n")
            ))),
        }
    }

    fn fail<T>(&self, what: String) -> Result<T, SimError> {
        self.check()?;
        Err(SimError::Scenario(format!(
            "{what}\n{}",
            self.world.trace.tail().join("\n")
        )))
    }

    /// Advances virtual time by `ms`.
    pub fn sleep(&mut self, ms: u64) -> Result<(), SimError> {
        let until = self.world.now() + ms;
        self.world.run_until(until);
        self.check()
    }

    fn relink(&mut self) {
        let n = self.n();
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    let up = self.connected[a] && self.connected[b];
                    if self.world.net.connected(a, b) != up {
                        self.world.set_link(a, b, up);
                    }
                }
            }
        }
    }

    /// Cuts server `i` off from everyone.
    pub fn disconnect(&mut self, i: usize) {
        self.connected[i] = false;
        self.relink();
    }

    /// Reconnects server `i` to every connected server.
    pub fn connect(&mut self, i: usize) {
        self.connected[i] = true;
        self.relink();
    }

    pub fn is_connected(&self, i: usize) -> bool {
        self.connected[i]
    }

    /// Whether server `i` is running.
    pub fn is_up(&self, i: usize) -> bool {
        self.world.nodes[i].alive()
    }

    /// The lab's `crash1`: disconnect and kill; only the disk survives.
    pub fn crash(&mut self, i: usize) {
        self.disconnect(i);
        self.world.crash(i);
    }

    /// The lab's `start1`: (re)start server `i` from its disk, still disconnected.
    pub fn start(&mut self, i: usize) -> Result<(), SimError> {
        self.world.crash(i);
        self.world.restart(i);
        self.check()
    }

    /// Loss, duplication and delay on every link.
    pub fn set_unreliable(&mut self, unreliable: bool) {
        let mut f = if unreliable {
            LinkFaults::unreliable()
        } else {
            LinkFaults::reliable()
        };
        f.long_reorder = self.world.net.faults.long_reorder;
        f.long_delay = self.world.net.faults.long_delay;
        self.world.set_link_faults(f);
    }

    /// Long reordering: some messages take 200-2000 ms.
    pub fn set_long_reordering(&mut self, on: bool) {
        let mut f = self.world.net.faults;
        f.long_reorder = if on { 0.2 } else { 0.0 };
        f.long_delay = (200, 2000);
        self.world.set_link_faults(f);
    }

    /// (term, believes it is leader) of a running server.
    pub fn state(&self, i: usize) -> Option<(Term, bool)> {
        let node = &self.world.nodes[i];
        node.alive()
            .then(|| (node.term, node.role == faultline_raft::Role::Leader))
    }

    /// The lab's `Start`: propose `cmd` at server `i`: (index, term) if it leads.
    pub fn start_cmd(&mut self, i: usize, cmd: u64) -> Option<(Index, Term)> {
        let result = self.world.propose_data(i, command(cmd));
        match result {
            Ok(index) => Some((index, self.world.nodes[i].term)),
            Err(RaftError::NotLeader { .. }) | Err(_) => None,
        }
    }

    /// Finds the single leader among connected servers, retrying for up to ~5 s.
    pub fn check_one_leader(&mut self) -> Result<usize, SimError> {
        for _ in 0..10 {
            let ms = 450 + self.rng.below(100);
            self.sleep(ms)?;
            let mut best: Option<(Term, usize)> = None;
            let mut by_term: std::collections::BTreeMap<Term, Vec<usize>> = Default::default();
            for i in 0..self.n() {
                if self.connected[i]
                    && let Some((term, true)) = self.state(i)
                {
                    by_term.entry(term).or_default().push(i);
                }
            }
            for (term, leaders) in &by_term {
                if leaders.len() > 1 {
                    return self.fail(format!("term {term} has {} (>1) leaders", leaders.len()));
                }
                best = Some((*term, leaders[0]));
            }
            if let Some((_, leader)) = best {
                return Ok(leader);
            }
        }
        self.fail("expected one leader, got none".into())
    }

    /// All connected servers agree on the term; returns it.
    pub fn check_terms(&self) -> Result<Term, SimError> {
        let mut term = None;
        for i in 0..self.n() {
            if self.connected[i]
                && let Some((t, _)) = self.state(i)
            {
                match term {
                    None => term = Some(t),
                    Some(t0) if t0 != t => return self.fail("servers disagree on term".into()),
                    Some(_) => {}
                }
            }
        }
        Ok(term.unwrap_or(0))
    }

    /// No connected server thinks it leads.
    pub fn check_no_leader(&self) -> Result<(), SimError> {
        for i in 0..self.n() {
            if self.connected[i] && self.state(i).is_some_and(|(_, l)| l) {
                return self.fail(format!(
                    "expected no leader among connected servers, but {i} claims to be leader"
                ));
            }
        }
        Ok(())
    }

    /// How many servers applied `index`, and the command there.
    pub fn n_committed(&self, index: Index) -> Result<(usize, Option<u64>), SimError> {
        self.check()?;
        let count = self
            .world
            .nodes
            .iter()
            .filter(|n| n.app.applied >= index)
            .count();
        let cmd = self
            .world
            .inv
            .applied_at(index)
            .and_then(|r| command_id(&r.entry.data));
        Ok((count, cmd))
    }

    /// The lab's `one`: submit `cmd` to whoever leads, wait for `expected`
    /// servers to apply it; with `retry`, resubmit when the first try fails.
    pub fn one(&mut self, cmd: u64, expected: usize, retry: bool) -> Result<Index, SimError> {
        let t0 = self.world.now();
        let mut starts = 0;
        while self.world.now() < t0 + 10 * ELECTION_TIMEOUT {
            let mut index = None;
            for _ in 0..self.n() {
                starts = (starts + 1) % self.n();
                if self.connected[starts]
                    && self.is_up(starts)
                    && let Some((i, _)) = self.start_cmd(starts, cmd)
                {
                    index = Some(i);
                    break;
                }
            }
            if let Some(index) = index {
                let t1 = self.world.now();
                while self.world.now() < t1 + 2 * ELECTION_TIMEOUT {
                    let (nd, got) = self.n_committed(index)?;
                    if nd > 0 && nd >= expected && got == Some(cmd) {
                        return Ok(index);
                    }
                    self.sleep(20)?;
                }
                if !retry {
                    return self.fail(format!("one({cmd}) failed to reach agreement"));
                }
            } else {
                self.sleep(50)?;
            }
        }
        self.fail(format!("one({cmd}) failed to reach agreement in 10 s"))
    }

    /// The lab's `wait`: until `n` servers applied `index`, or some server
    /// moved past `start_term` (then `None`).
    pub fn wait(
        &mut self,
        index: Index,
        n: usize,
        start_term: Option<Term>,
    ) -> Result<Option<u64>, SimError> {
        let mut to = 10;
        for _ in 0..30 {
            let (nd, _) = self.n_committed(index)?;
            if nd >= n {
                break;
            }
            self.sleep(to)?;
            to = (to * 2).min(1000);
            if let Some(t) = start_term
                && (0..self.n()).any(|i| self.state(i).is_some_and(|(term, _)| term > t))
            {
                return Ok(None);
            }
        }
        let (nd, cmd) = self.n_committed(index)?;
        if nd < n {
            return self.fail(format!("only {nd} decided for index {index}; wanted {n}"));
        }
        Ok(cmd)
    }

    /// Requests sent so far (responses are not counted, as the lab counts RPCs).
    pub fn rpc_total(&self) -> u64 {
        self.world.stats.requests_sent
    }

    /// The longest retained log among running servers (entries after the snapshot).
    pub fn max_log_len(&self) -> usize {
        self.world
            .nodes
            .iter()
            .filter_map(|n| n.raw.as_ref())
            .map(|r| r.log_entries().len())
            .max()
            .unwrap_or(0)
    }
}
