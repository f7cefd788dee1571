//! `RawNode`: the public face of the core, in the shape of etcd-raft's
//! RawNode. It wraps the state machine (`raft.rs`) with the Ready protocol:
//! what to persist, send and apply, and when.
//!
//! The caller owns all I/O; see `node.rs` for the loop. In short:
//! feed inputs (`tick`, `step`, `propose`, `propose_conf_change`, `read_index`); while `has_ready()`,
//! take `ready()`, handle it in the documented order, then `advance(ready)`.
//! Call `advance` before the next `ready` (inputs in between are fine).
//!
//! Restart: `RawNode::new(config, persisted)` with what is on disk. The
//! applied index starts at the snapshot's index: the application restores
//! the snapshot from its own disk before starting (it is *not* handed out
//! again in a `Ready`), and the committed entries after it are handed out
//! again in `committed_entries` to be re-applied.

use crate::conf::{ConfChange, ConfState};
use crate::error::RaftError;
use crate::node::{Config, PersistedState, Ready, Status};
use crate::raft::Raft;
use crate::types::{Entry, EntryKind, HardState, Index, Message, NodeId, Role, SoftState, Term};

/// One Raft node's core. Clone + Hash + Eq so the model checker can store it;
/// every field takes part in `Hash`/`Eq`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawNode {
    raft: Raft,
    /// The soft state last handed out.
    prev_soft: SoftState,
    /// The hard state last handed out for persisting (or read from disk).
    prev_hard: HardState,
}

impl RawNode {
    /// Start (or restart) a node from what survived on disk. Fails with
    /// `InvalidConfig` on a bad configuration or an inconsistent disk state
    /// (entries not contiguous, a term below the log's last term, ...).
    pub fn new(config: Config, persisted: PersistedState) -> Result<RawNode, RaftError> {
        let mut prev_hard = persisted.hard_state.clone();
        let raft = Raft::new(&config, persisted)?;
        if raft.bugs.forget_vote {
            prev_hard.vote = None;
        }
        Ok(RawNode {
            prev_soft: raft.soft_state(),
            prev_hard,
            raft,
        })
    }

    /// The rewriting behind `relabel` (relabel.rs), without its check.
    pub(crate) fn relabel_unchecked(&self, r: &crate::relabel::Renaming) -> RawNode {
        RawNode {
            raft: crate::relabel::relabel_raft(&self.raft, r),
            prev_soft: self.prev_soft.relabel(r),
            prev_hard: self.prev_hard.relabel(r),
        }
    }

    /// Advance logical time by one tick (election / heartbeat timers).
    pub fn tick(&mut self) {
        self.raft.tick();
    }

    /// Start an election now (tests and leadership transfer); a PreVote round
    /// first when `pre_vote` is on. A leader ignores it.
    pub fn campaign(&mut self) {
        self.raft.hup();
    }

    /// Feed a message received from a peer. Messages from unknown nodes,
    /// addressed elsewhere, or malformed (by a buggy peer) are refused with
    /// an error and change nothing; stale messages are silently handled.
    pub fn step(&mut self, msg: Message) -> Result<(), RaftError> {
        self.raft.step(msg)
    }

    /// Propose a command; returns the index it will have if it commits.
    /// Anything but the leader refuses with `NotLeader { leader }` (the
    /// leader it knows of, for redirecting the client). An accepted proposal
    /// may still be lost if leadership changes before it commits: the caller
    /// learns its fate from the entry at that index in `committed_entries`.
    pub fn propose(&mut self, data: Vec<u8>) -> Result<Index, RaftError> {
        if self.raft.role != Role::Leader {
            return Err(RaftError::NotLeader {
                leader: self.raft.leader,
            });
        }
        let index = self.raft.append_entry(EntryKind::Normal, data);
        self.raft.bcast_append();
        Ok(index)
    }

    /// Propose a single-server membership change; returns the index of its
    /// entry. The change takes effect on each node as soon as the entry is
    /// in its log (here, at once). Refused with `NotLeader` by anything but
    /// the leader, and with `RaftError::ConfChange` when the leader has not
    /// yet committed an entry of its term (its no-op), when an earlier
    /// change is not committed yet, or when the change makes no sense for
    /// the current configuration (adding a voter twice, removing a
    /// non-member or the last voter). A leader that removes itself keeps
    /// leading until the removal commits, then steps down.
    pub fn propose_conf_change(&mut self, change: ConfChange) -> Result<Index, RaftError> {
        self.raft.propose_conf_change(change, Vec::new())
    }

    /// [`propose_conf_change`](Self::propose_conf_change) with `context`
    /// as the entry's data: opaque to the core, kept with the change in the
    /// log (a host records e.g. the new member's address there, so every
    /// node learns it with the change).
    pub fn propose_conf_change_with_context(
        &mut self,
        change: ConfChange,
        context: Vec<u8>,
    ) -> Result<Index, RaftError> {
        self.raft.propose_conf_change(change, context)
    }

    /// The current configuration (the latest in this node's log).
    pub fn conf_state(&self) -> ConfState {
        self.raft.conf_state()
    }

    /// Ask for a linearizable read point; the answer arrives as a `ReadState`
    /// with the same `ctx` in a later `Ready`. Only the leader serves reads:
    /// others return `NotLeader { leader }` and the caller redirects. The
    /// leader answers once it has committed an entry of its term and a quorum
    /// answered a heartbeat carrying `ctx`. If leadership is lost meanwhile,
    /// the read is silently dropped: the caller times out and retries.
    /// `ctx` must be unique among pending reads.
    pub fn read_index(&mut self, ctx: Vec<u8>) -> Result<(), RaftError> {
        self.raft.read_index(ctx)
    }

    /// Whether `ready()` has anything to hand out. Exact: false means an
    /// empty `Ready`, true means a non-empty one.
    pub fn has_ready(&self) -> bool {
        let r = &self.raft;
        r.soft_state() != self.prev_soft
            || r.hard_state_to_persist() != self.prev_hard
            || !r.log.unstable_entries().is_empty()
            || r.log.pending_snapshot().is_some()
            || !r.msgs.is_empty()
            || !r.msgs_after.is_empty()
            || !r.log.next_committed().is_empty()
            || !r.read_states.is_empty()
    }

    /// Take the pending work. See `Ready` for what each field asks of the
    /// caller, and the `node` module docs for the order.
    pub fn ready(&mut self) -> Ready {
        let r = &mut self.raft;
        let soft = r.soft_state();
        let soft_state = (soft != self.prev_soft).then(|| soft.clone());
        self.prev_soft = soft;
        let hard = r.hard_state_to_persist();
        let hard_state = (hard != self.prev_hard).then(|| hard.clone());
        self.prev_hard = hard;
        let entries = r.log.unstable_entries().to_vec();
        r.log.hand_out_entries();
        let snapshot = r.log.pending_snapshot().cloned();
        r.log.hand_out_snapshot();
        let committed_entries = r.log.next_committed().to_vec();
        if let Some(last) = committed_entries.last() {
            r.log.hand_out_committed(last.index);
        }
        Ready {
            soft_state,
            hard_state,
            entries,
            snapshot,
            messages: std::mem::take(&mut r.msgs),
            persisted_messages: std::mem::take(&mut r.msgs_after),
            committed_entries,
            read_states: std::mem::take(&mut r.read_states),
        }
    }

    /// Tell the core the caller has handled `ready`: its snapshot and entries
    /// are durable and its committed entries applied. A leader may now count
    /// its own log toward commit.
    pub fn advance(&mut self, ready: Ready) {
        let r = &mut self.raft;
        if let Some(snapshot) = &ready.snapshot {
            r.log.snapshot_stable(snapshot.meta.index);
        }
        let persisted_before = r.log.persisted();
        if let Some(last) = ready.entries.last() {
            r.log.stable_to(last.index, last.term);
        }
        if let Some(last) = ready.committed_entries.last() {
            r.log.applied_to(last.index);
        }
        if r.role == Role::Leader && r.log.persisted() > persisted_before && r.maybe_commit() {
            r.bcast_append();
            r.after_commit_conf();
        }
        r.log.debug_check();
    }

    /// The application has a snapshot of its state at `index` (<= applied):
    /// discard the log up to it. The snapshot is kept (to send to lagging
    /// followers) but not handed out in a `Ready`: the application already
    /// has it and persists it itself.
    pub fn compact(&mut self, index: Index, data: Vec<u8>) -> Result<(), RaftError> {
        let log = &self.raft.log;
        let (first, applied) = (log.first_index(), log.applied());
        if index < first || index > applied {
            return Err(RaftError::BadCompaction {
                index,
                first,
                applied,
            });
        }
        let conf = self.raft.conf_as_of(index);
        self.raft.log.compact(index, data, conf);
        Ok(())
    }

    pub fn status(&self) -> Status {
        let r = &self.raft;
        Status {
            id: r.id,
            soft_state: r.soft_state(),
            hard_state: r.hard_state(),
            applied: r.log.applied(),
            last_index: r.log.last_index(),
            last_term: r.log.last_term(),
            snapshot_index: r.log.snapshot_index(),
            voters: r.peers.clone(),
            learners: r.learners.clone(),
        }
    }

    pub fn id(&self) -> NodeId {
        self.raft.id
    }

    /// Term of the entry at `index`, if it is in the retained log or is the snapshot point.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        self.raft.log.term(index)
    }

    /// The retained log entries (after the snapshot), in order.
    pub fn log_entries(&self) -> &[Entry] {
        self.raft.log.entries()
    }

    /// The current term.
    pub fn term(&self) -> Term {
        self.raft.term
    }

    /// Who this node voted for in the current term.
    pub fn vote(&self) -> Option<NodeId> {
        self.raft.vote
    }

    pub fn role(&self) -> Role {
        self.raft.role
    }

    /// The leader this node knows of (itself when leader).
    pub fn leader(&self) -> Option<NodeId> {
        self.raft.leader
    }

    /// The highest index known committed.
    pub fn commit(&self) -> Index {
        self.raft.log.committed()
    }

    /// The highest index the caller reported applied.
    pub fn applied(&self) -> Index {
        self.raft.log.applied()
    }

    /// The highest index known durable on this node.
    pub fn persisted_index(&self) -> Index {
        self.raft.log.persisted()
    }

    /// The first retained log index (snapshot index + 1).
    pub fn first_index(&self) -> Index {
        self.raft.log.first_index()
    }

    pub fn last_index(&self) -> Index {
        self.raft.log.last_index()
    }

    pub fn last_term(&self) -> Term {
        self.raft.log.last_term()
    }

    /// The snapshot the log starts after (index 0: none).
    pub fn snapshot(&self) -> &crate::types::Snapshot {
        self.raft.log.snapshot()
    }

    /// The voters of the current configuration, sorted.
    pub fn peers(&self) -> &[NodeId] {
        &self.raft.peers
    }

    /// Leader only: (follower, match index, next index) for each follower.
    pub fn progress(&self) -> Vec<(NodeId, Index, Index)> {
        self.raft
            .progress
            .iter()
            .map(|p| (p.id, p.matched, p.next))
            .collect()
    }
}
