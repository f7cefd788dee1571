//! `RawNode`: the public face of the core, in the shape of etcd-raft's RawNode.
//!
//! The caller owns all I/O. Its loop is:
//! 1. feed inputs: `tick()` on a timer, `step(msg)` for each received message,
//!    `propose(data)` and `read_index(ctx)` for client requests;
//! 2. when `has_ready()`, take `ready()`, then in this order:
//!    send `ready.messages` (allowed at once), persist `ready.snapshot`,
//!    `ready.entries` and `ready.hard_state` and make them durable (fsync),
//!    then send `ready.persisted_messages`, apply `ready.committed_entries`
//!    (after a snapshot, if any), and serve `ready.read_states` once applied
//!    up to their index;
//! 3. call `advance(ready)` (before the next `ready()`).
//!
//! `step` errors: `UnknownPeer`/`InvalidMessage` mean the message was ignored;
//! `SafetyViolation` means the message proves Raft safety was broken
//! elsewhere (only planted bugs or buggy peers cause it): report it.

use serde::{Deserialize, Serialize};

use crate::bugs::BugSet;
use crate::lease::ReadMode;
use crate::types::{
    Entry, HardState, Index, Message, NodeId, ReadState, Snapshot, SoftState, Term,
};

/// Static configuration of one core.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Config {
    /// This node's id.
    pub id: NodeId,
    /// The voters of the group before any membership change (the same on
    /// every node; a snapshot that records a configuration, and the
    /// changes in the log, take precedence). This node is among them,
    /// unless it is joining the group: then it votes once a change adding
    /// it is in its log.
    pub peers: Vec<NodeId>,
    /// Election timeout in ticks; each timeout is drawn from
    /// `[election_tick, 2 * election_tick)` with the seeded RNG.
    pub election_tick: u32,
    /// Heartbeat interval in ticks.
    pub heartbeat_tick: u32,
    pub pre_vote: bool,
    pub check_quorum: bool,
    /// Upper bound on entries in one AppendEntries.
    pub max_entries_per_msg: usize,
    /// Upper bound on AppendEntries in flight to one follower (pipelining).
    pub max_inflight: usize,
    /// Seed of the node's RNG (election timeouts).
    pub seed: u64,
    /// Planted bugs (empty: correct behaviour).
    pub bugs: BugSet,
    /// How the leader serves reads (`lease.rs`); ReadIndex by default.
    #[serde(default)]
    pub read_mode: ReadMode,
    /// Lease mode: the bound on how far any node's clock rate may stray from
    /// true time, in percent; the lease is shortened to stay safe within it.
    #[serde(default = "default_drift_pct")]
    pub max_clock_drift_pct: u32,
}

fn default_drift_pct() -> u32 {
    DEFAULT_MAX_CLOCK_DRIFT_PCT
}

/// The default clock drift bound of lease mode, in percent.
pub const DEFAULT_MAX_CLOCK_DRIFT_PCT: u32 = 20;

impl Config {
    /// A configuration with etcd-like defaults: election 10 ticks, heartbeat 1,
    /// PreVote and CheckQuorum on.
    pub fn new(id: NodeId, peers: Vec<NodeId>, seed: u64) -> Self {
        Config {
            id,
            peers,
            election_tick: 10,
            heartbeat_tick: 1,
            pre_vote: true,
            check_quorum: true,
            max_entries_per_msg: 64,
            max_inflight: 8,
            seed,
            bugs: BugSet::new(),
            read_mode: ReadMode::ReadIndex,
            max_clock_drift_pct: DEFAULT_MAX_CLOCK_DRIFT_PCT,
        }
    }

    /// Lease mode: the lease length in ticks (None: not in lease mode).
    pub fn lease_ticks(&self) -> Option<u32> {
        (self.read_mode == ReadMode::Lease).then(|| {
            crate::lease::lease_ticks(
                self.election_tick,
                self.max_clock_drift_pct,
                self.bugs
                    .contains(&crate::bugs::RaftBug::LeaseNoDriftMargin),
            )
        })?
    }

    /// A seed for node `id` under which its RNG stream does not depend on
    /// its id: every node seeded with `id_independent_seed(its id, base)`
    /// draws the same stream, so what a node draws depends only on what
    /// happened to it. Renaming nodes (`RawNode::relabel`) is exact for
    /// nodes seeded this way; the model checker uses it for symmetry.
    pub fn id_independent_seed(id: NodeId, base: u64) -> u64 {
        base ^ crate::rng::id_mix(id)
    }
}

/// What survived on disk: the input of a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersistedState {
    pub hard_state: HardState,
    /// The latest snapshot, if any.
    pub snapshot: Option<Snapshot>,
    /// Entries after the snapshot, contiguous.
    pub entries: Vec<Entry>,
}

/// A batch of work for the caller. See the module docs for the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ready {
    /// Changed role or leader; informational, never persisted.
    pub soft_state: Option<SoftState>,
    /// Persist (atomically) when `Some`, before sending `persisted_messages`.
    pub hard_state: Option<HardState>,
    /// Append to the log, first discarding any persisted entries at or after
    /// `entries[0].index`; durable before `persisted_messages` are sent.
    pub entries: Vec<Entry>,
    /// A snapshot received from the leader: persist it, replacing the whole
    /// log (drop every persisted entry), and restore the state machine from
    /// it before applying `committed_entries`. Never set for the caller's own
    /// `compact`, nor re-emitted after a restart (the application restores
    /// its snapshot from disk itself).
    pub snapshot: Option<Snapshot>,
    /// Messages that may be sent at once, in parallel with persisting (a
    /// leader's AppendEntries, Heartbeats and snapshots, and PreVotes; the
    /// leader counts its own entries toward commit only after `advance`).
    pub messages: Vec<Message>,
    /// Messages that may be sent only after everything above is durable
    /// (vote requests and grants, acknowledgements of appended entries,
    /// heartbeat answers: anything that depends on durable state).
    pub persisted_messages: Vec<Message>,
    /// Committed entries to apply in order; they are already durable. After
    /// a restart, the committed entries after the snapshot come again.
    pub committed_entries: Vec<Entry>,
    /// ReadIndex results: serve each read once applied up to its index.
    pub read_states: Vec<ReadState>,
}

/// A read-only view of a node, for status pages, invariants and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub id: NodeId,
    pub soft_state: SoftState,
    pub hard_state: HardState,
    pub applied: Index,
    pub last_index: Index,
    pub last_term: Term,
    pub snapshot_index: Index,
    /// The voters of the current configuration, sorted.
    pub voters: Vec<NodeId>,
    /// The learners of the current configuration, sorted.
    pub learners: Vec<NodeId>,
}
