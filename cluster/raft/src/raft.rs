//! The Raft state machine proper: its state, role changes, the tick timers and
//! the dispatch of incoming messages by term and role. Elections live in
//! `election.rs`, log replication and commit in `replication.rs`, ReadIndex in
//! `read_index.rs`; `RawNode` (raw_node.rs) wraps this with the Ready protocol.

use tracing::{debug, trace, warn};

use crate::bugs::ActiveBugs;
use crate::error::RaftError;
use crate::lease::Lease;
use crate::log::RaftLog;
use crate::node::{Config, PersistedState};
use crate::progress::Progress;
use crate::read_only::ReadOnly;
use crate::rng::Rng;
use crate::types::{
    EntryKind, HardState, Index, Message, MessageBody, NodeId, ReadState, Role, SoftState, Term,
};

/// The state of one Raft node. Every field is part of `Hash`/`Eq`: two
/// nodes compare equal only if they behave identically from here on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Raft {
    pub id: NodeId,
    /// The voters of the current configuration, sorted (this node among
    /// them unless it is joining, a learner, or removed). The configuration
    /// is the latest one in the log (`confchange.rs`).
    pub peers: Vec<NodeId>,
    /// The learners of the current configuration, sorted.
    pub learners: Vec<NodeId>,
    /// The voters given in `Config::peers`: the configuration before any
    /// change when the snapshot records none.
    pub initial_voters: Vec<NodeId>,
    /// (index, term) of the latest configuration change in the retained
    /// log; (0, 0) when the configuration comes from the snapshot or the
    /// initial voters.
    pub conf_at: (Index, Term),
    pub election_tick: u32,
    pub heartbeat_tick: u32,
    pub pre_vote: bool,
    pub check_quorum: bool,
    pub max_entries: usize,
    pub max_inflight: usize,
    pub bugs: ActiveBugs,

    pub term: Term,
    pub vote: Option<NodeId>,
    pub role: Role,
    pub leader: Option<NodeId>,
    pub log: RaftLog,

    /// Ticks since the last election timer reset (followers, candidates) or
    /// since the last CheckQuorum round (leaders).
    pub election_elapsed: u32,
    pub heartbeat_elapsed: u32,
    /// This round's election timeout, in `[election_tick, 2 * election_tick)`.
    pub randomized_timeout: u32,
    pub rng: Rng,

    /// Votes received in the current (pre-)campaign: (voter, granted).
    pub votes: Vec<(NodeId, bool)>,
    /// Leader only: one record per other voter, in `peers` order.
    pub progress: Vec<Progress>,
    /// Leader only: reads in progress.
    pub reads: ReadOnly,

    /// Outgoing messages that may leave at once.
    pub msgs: Vec<Message>,
    /// Outgoing messages that may leave only once the state is durable.
    pub msgs_after: Vec<Message>,
    /// Reads ready to be served.
    pub read_states: Vec<ReadState>,
    /// Lease mode only (`lease.rs`): the lease clock, vote guard and lease.
    pub lease: Option<Lease>,
}

impl Raft {
    pub fn new(config: &Config, persisted: PersistedState) -> Result<Raft, RaftError> {
        let bad = |s: String| Err(RaftError::InvalidConfig(s));
        let mut peers = config.peers.clone();
        peers.sort_unstable();
        peers.dedup();
        if config.id == 0 {
            return bad("node id 0 is reserved for \"none\"".into());
        }
        if peers.contains(&0) {
            return bad("peer id 0 is reserved for \"none\"".into());
        }
        // Peers without this node: a node joining the group; it votes once
        // a change adding it is in its log (or in a snapshot it installs).
        if peers.is_empty() {
            return bad(format!("node {}: no peers", config.id));
        }
        if config.heartbeat_tick == 0 || config.election_tick <= config.heartbeat_tick {
            return bad(format!(
                "need 0 < heartbeat_tick < election_tick, got heartbeat {} election {}",
                config.heartbeat_tick, config.election_tick
            ));
        }
        if config.max_entries_per_msg == 0 || config.max_inflight == 0 {
            return bad("max_entries_per_msg and max_inflight must be positive".into());
        }
        let bugs = ActiveBugs::from_set(&config.bugs);
        let lease = match config.read_mode {
            crate::lease::ReadMode::ReadIndex => None,
            crate::lease::ReadMode::Lease => match config.lease_ticks() {
                Some(ticks) => Some(Lease::new(ticks)),
                None => {
                    return bad(format!(
                        "lease mode: election_tick {} with a clock drift bound of {} % leaves no lease",
                        config.election_tick, config.max_clock_drift_pct
                    ));
                }
            },
        };
        let PersistedState {
            hard_state,
            snapshot,
            entries,
        } = persisted;
        let last = snapshot.as_ref().map_or(0, |s| s.meta.index) + entries.len() as u64;
        let mut commit = hard_state.commit;
        if commit > last {
            // The hard state was written ahead of the entries it commits:
            // lowering commit is safe (it is re-learned from the leader).
            warn!(
                node = config.id,
                term = hard_state.term,
                commit,
                last,
                "persisted commit beyond persisted log; lowering it"
            );
            commit = last;
        }
        let log = RaftLog::restore(snapshot, entries, commit).map_err(RaftError::InvalidConfig)?;
        if log.last_term() > hard_state.term {
            return bad(format!(
                "persisted term {} is below the last log term {}",
                hard_state.term,
                log.last_term()
            ));
        }
        let (conf, conf_at) = crate::confchange::restore_conf(&peers, &log);
        // A vote for a server outside the configuration is legitimate state:
        // a server added by a change that was later truncated (or removed
        // since) may have voted, or been voted for, in this term. The vote
        // is kept (forgetting it would allow a second vote in the term).
        if let Some(v) = hard_state.vote
            && !conf.voters.contains(&v)
        {
            warn!(
                node = config.id,
                term = hard_state.term,
                vote = v,
                "persisted vote for a server outside the current configuration (a change was truncated or the server removed); keeping it"
            );
        }
        let vote = if bugs.forget_vote {
            None
        } else {
            hard_state.vote
        };
        let mut raft = Raft {
            id: config.id,
            peers: conf.voters,
            learners: conf.learners,
            initial_voters: peers,
            conf_at,
            election_tick: config.election_tick,
            heartbeat_tick: config.heartbeat_tick,
            pre_vote: config.pre_vote,
            check_quorum: config.check_quorum,
            max_entries: config.max_entries_per_msg,
            max_inflight: config.max_inflight,
            bugs,
            term: hard_state.term,
            vote,
            role: Role::Follower,
            leader: None,
            log,
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            randomized_timeout: config.election_tick,
            rng: Rng::new(config.seed, config.id),
            votes: Vec::new(),
            progress: Vec::new(),
            reads: ReadOnly::default(),
            msgs: Vec::new(),
            msgs_after: Vec::new(),
            read_states: Vec::new(),
            lease,
        };
        raft.reset_randomized_timeout();
        debug!(
            node = raft.id,
            term = raft.term,
            commit = raft.log.committed(),
            last = raft.log.last_index(),
            "started"
        );
        Ok(raft)
    }

    pub fn quorum(&self) -> usize {
        self.peers.len() / 2 + 1
    }

    /// The other voters (whom a candidate asks for votes).
    pub fn others(&self) -> impl Iterator<Item = NodeId> + '_ {
        let me = self.id;
        self.peers.iter().copied().filter(move |p| *p != me)
    }

    /// Whether `id` is a voter of the current configuration.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.peers.binary_search(&id).is_ok()
    }

    /// Whether `id` is a voter or a learner of the current configuration.
    pub fn is_member(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.learners.binary_search(&id).is_ok()
    }

    pub fn soft_state(&self) -> SoftState {
        SoftState {
            role: self.role,
            leader: self.leader,
        }
    }

    pub fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.log.committed(),
        }
    }

    /// The hard state as handed to the caller for persisting (the ForgetVote
    /// bug drops the vote here).
    pub fn hard_state_to_persist(&self) -> HardState {
        let mut hs = self.hard_state();
        if self.bugs.forget_vote {
            hs.vote = None;
        }
        hs
    }

    /// Queue a message. Messages whose meaning does not depend on this node's
    /// durable state (a leader's appends and heartbeats, a snapshot, a
    /// PreVote, which promises nothing) may leave at once; everything else
    /// (votes, acknowledgements, vote requests carrying a new term) waits
    /// until the Ready that produced it is durable.
    pub fn send(&mut self, to: NodeId, term: Term, body: MessageBody) {
        let immediate = matches!(
            body,
            MessageBody::AppendEntries { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot { .. }
                | MessageBody::PreVote { .. }
        );
        let msg = Message {
            from: self.id,
            to,
            term,
            body,
        };
        if immediate {
            self.msgs.push(msg);
        } else {
            self.msgs_after.push(msg);
        }
    }

    fn reset_randomized_timeout(&mut self) {
        let spread = u64::from(self.election_tick);
        self.randomized_timeout = self.election_tick + self.rng.below(spread) as u32;
    }

    /// Common part of every role change.
    fn reset(&mut self, term: Term) {
        if term != self.term {
            assert!(
                term > self.term,
                "node {} term {}: terms never go back (asked for {term})",
                self.id,
                self.term
            );
            self.term = term;
            self.vote = None;
        }
        self.leader = None;
        self.election_elapsed = 0;
        self.heartbeat_elapsed = 0;
        self.reset_randomized_timeout();
        self.votes.clear();
        self.progress.clear();
        self.reads.clear();
        if let Some(l) = &mut self.lease {
            l.reset();
        }
    }

    pub fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        self.reset(term);
        self.role = Role::Follower;
        self.leader = leader;
        debug!(node = self.id, term = self.term, leader = ?leader, "became follower");
    }

    pub fn become_pre_candidate(&mut self) {
        assert!(
            self.role != Role::Leader,
            "node {} term {}: a leader does not pre-campaign",
            self.id,
            self.term
        );
        // Like etcd: no term change, no vote; only the role and the tally.
        self.votes.clear();
        self.role = Role::PreCandidate;
        self.leader = None;
        self.election_elapsed = 0;
        self.reset_randomized_timeout();
        debug!(node = self.id, term = self.term, "became pre-candidate");
    }

    pub fn become_candidate(&mut self) {
        assert!(
            self.role != Role::Leader,
            "node {} term {}: a leader does not campaign",
            self.id,
            self.term
        );
        self.reset(self.term + 1);
        self.vote = Some(self.id);
        self.role = Role::Candidate;
        debug!(node = self.id, term = self.term, "became candidate");
    }

    pub fn become_leader(&mut self) {
        assert!(
            self.role == Role::Candidate,
            "node {} term {}: only a candidate becomes leader (was {:?})",
            self.id,
            self.term,
            self.role
        );
        self.reset(self.term);
        self.role = Role::Leader;
        self.leader = Some(self.id);
        let last = self.log.last_index();
        let others: Vec<NodeId> = self.replication_targets();
        self.progress = others
            .into_iter()
            .map(|id| {
                let mut pr = Progress::new(id, last);
                // Just elected by a quorum: count everyone as active for the
                // first CheckQuorum round.
                pr.recent_active = true;
                pr
            })
            .collect();
        if !self.bugs.figure8 {
            self.append_entry(EntryKind::Noop, Vec::new());
        }
        debug!(
            node = self.id,
            term = self.term,
            last = self.log.last_index(),
            "became leader"
        );
    }

    /// Advance logical time by one tick.
    pub fn tick(&mut self) {
        if let Some(l) = &mut self.lease {
            l.tick();
        }
        if self.role == Role::Leader {
            self.tick_leader();
        } else if !self.is_voter(self.id) {
            // Joining, learner or removed: never campaigns; the timer keeps
            // running so it stops guarding votes for a silent leader.
            self.election_elapsed = self.election_elapsed.saturating_add(1);
        } else {
            self.election_elapsed += 1;
            if self.election_elapsed >= self.randomized_timeout {
                self.election_elapsed = 0;
                trace!(node = self.id, term = self.term, "election timeout");
                self.hup();
            }
        }
    }

    fn tick_leader(&mut self) {
        self.heartbeat_elapsed += 1;
        self.election_elapsed += 1;
        if self.election_elapsed >= self.election_tick {
            self.election_elapsed = 0;
            if self.check_quorum && !self.quorum_recently_active() {
                debug!(
                    node = self.id,
                    term = self.term,
                    "quorum lost; stepping down"
                );
                self.become_follower(self.term, None);
                return;
            }
            // A snapshot that got no answer within an election timeout was
            // probably lost: probe again (which resends it if still needed).
            for pr in &mut self.progress {
                if matches!(pr.state, crate::progress::ProgressState::Snapshot { .. }) {
                    pr.become_probe();
                }
            }
        }
        if self.heartbeat_elapsed >= self.heartbeat_tick {
            self.heartbeat_elapsed = 0;
            self.bcast_heartbeat();
        }
    }

    /// CheckQuorum: did a quorum (this leader included) speak since the last
    /// round? Resets the activity marks for the next round.
    fn quorum_recently_active(&mut self) -> bool {
        let mut active = usize::from(self.is_voter(self.id));
        for i in 0..self.progress.len() {
            let pr = &self.progress[i];
            if pr.recent_active && self.is_voter(pr.id) {
                active += 1;
            }
            self.progress[i].recent_active = false;
        }
        active >= self.quorum()
    }

    /// Feed a message from a peer.
    pub fn step(&mut self, m: Message) -> Result<(), RaftError> {
        let invalid = |reason| RaftError::InvalidMessage {
            from: m.from,
            reason,
        };
        if m.to != self.id {
            return Err(invalid("addressed to another node"));
        }
        // Messages are heard from anyone, members or not (dissertation
        // §4.1): a leader may be a server added by a change this node has
        // not seen yet, or one that removed itself and leads until that
        // commits; a candidate may be a voter of a configuration this node
        // has not seen yet, and ignoring it can leave no electable server
        // (the simulator found such a run). Terms and the log check keep
        // that safe; PreVote and the CheckQuorum leader stickiness below
        // keep a removed server that missed its removal from disrupting.
        if m.from == self.id {
            return Err(RaftError::UnknownPeer(m.from));
        }
        if m.term == 0 {
            return Err(invalid("term 0"));
        }
        if m.term > self.term {
            let is_vote_request = matches!(
                m.body,
                MessageBody::PreVote { .. } | MessageBody::RequestVote { .. }
            );
            if is_vote_request
                && ((self.check_quorum
                    && self.leader.is_some()
                    && self.election_elapsed < self.election_tick)
                    || self.lease_guards_votes())
            {
                // Leader lease: we heard from a live leader recently.
                trace!(
                    node = self.id,
                    term = self.term,
                    from = m.from,
                    msg_term = m.term,
                    "ignoring vote request within the leader lease"
                );
                return Ok(());
            }
            match &m.body {
                // A PreVote does not change our term; neither does a granted
                // PreVote answer (its term is the one we would campaign in).
                MessageBody::PreVote { .. } => {}
                MessageBody::PreVoteResponse { reject: false } => {}
                MessageBody::AppendEntries { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot { .. } => {
                    self.become_follower(m.term, Some(m.from));
                }
                _ => self.become_follower(m.term, None),
            }
        } else if m.term < self.term {
            return self.step_stale(m);
        }
        match m.body {
            MessageBody::PreVote {
                last_log_index,
                last_log_term,
            } => {
                self.handle_vote_request(m.from, m.term, true, last_log_index, last_log_term);
                Ok(())
            }
            MessageBody::RequestVote {
                last_log_index,
                last_log_term,
            } => {
                self.handle_vote_request(m.from, m.term, false, last_log_index, last_log_term);
                Ok(())
            }
            _ => match self.role {
                Role::Leader => self.step_leader(m),
                Role::PreCandidate | Role::Candidate => self.step_candidate(m),
                Role::Follower => self.step_follower(m),
            },
        }
    }

    /// A message from an older term: tell a stale leader or pre-candidate our
    /// term so it steps down; drop everything else.
    fn step_stale(&mut self, m: Message) -> Result<(), RaftError> {
        trace!(
            node = self.id,
            term = self.term,
            from = m.from,
            msg_term = m.term,
            "message from an older term"
        );
        match m.body {
            MessageBody::AppendEntries { prev_log_index, .. } => self.send(
                m.from,
                self.term,
                MessageBody::AppendEntriesResponse {
                    reject: true,
                    index: prev_log_index,
                    hint: None,
                },
            ),
            MessageBody::InstallSnapshot { .. } => self.send(
                m.from,
                self.term,
                MessageBody::AppendEntriesResponse {
                    reject: true,
                    index: 0,
                    hint: None,
                },
            ),
            MessageBody::Heartbeat { .. } => self.send(
                m.from,
                self.term,
                MessageBody::HeartbeatResponse { ctx: None },
            ),
            MessageBody::PreVote { .. } => self.send(
                m.from,
                self.term,
                MessageBody::PreVoteResponse { reject: true },
            ),
            _ => {}
        }
        Ok(())
    }

    fn step_leader(&mut self, m: Message) -> Result<(), RaftError> {
        match m.body {
            MessageBody::AppendEntriesResponse {
                reject,
                index,
                hint,
            } => self.handle_append_response(m.from, reject, index, hint),
            MessageBody::HeartbeatResponse { ctx } => {
                self.handle_heartbeat_response(m.from, ctx);
                Ok(())
            }
            MessageBody::AppendEntries { .. }
            | MessageBody::Heartbeat { .. }
            | MessageBody::InstallSnapshot { .. } => {
                // Two leaders in one term: only a buggy peer (or a planted
                // bug) can cause it. Refuse rather than corrupt the log.
                warn!(
                    node = self.id,
                    term = self.term,
                    from = m.from,
                    "another leader in my term; ignoring it"
                );
                Err(RaftError::InvalidMessage {
                    from: m.from,
                    reason: "a second leader in the same term",
                })
            }
            _ => Ok(()),
        }
    }

    fn step_candidate(&mut self, m: Message) -> Result<(), RaftError> {
        match m.body {
            MessageBody::AppendEntries { .. }
            | MessageBody::Heartbeat { .. }
            | MessageBody::InstallSnapshot { .. } => {
                // A leader of our term exists: follow it.
                self.become_follower(m.term, Some(m.from));
                self.step_follower(m)
            }
            MessageBody::PreVoteResponse { reject } if self.role == Role::PreCandidate => {
                // A grant carries the term we would campaign in; a
                // rejection carries the voter's (not higher) term.
                if reject || m.term == self.term + 1 {
                    self.handle_vote_response(m.from, reject);
                }
                Ok(())
            }
            MessageBody::RequestVoteResponse { reject } if self.role == Role::Candidate => {
                self.handle_vote_response(m.from, reject);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn step_follower(&mut self, m: Message) -> Result<(), RaftError> {
        let from_leader = matches!(
            m.body,
            MessageBody::AppendEntries { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot { .. }
        );
        if from_leader && self.leader.is_some_and(|l| l != m.from) {
            warn!(node = self.id, term = self.term, from = m.from, leader = ?self.leader,
                "a second leader in my term; ignoring it");
            return Err(RaftError::SafetyViolation {
                from: m.from,
                what: "a second leader in the same term",
            });
        }
        match m.body {
            MessageBody::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                commit,
            } => {
                self.heard_from_leader(m.from);
                self.handle_append(
                    m.from,
                    m.term,
                    prev_log_index,
                    prev_log_term,
                    entries,
                    commit,
                )
            }
            MessageBody::Heartbeat { commit, ctx } => {
                self.heard_from_leader(m.from);
                self.handle_heartbeat(m.from, commit, ctx);
                Ok(())
            }
            MessageBody::InstallSnapshot { snapshot } => {
                self.heard_from_leader(m.from);
                self.handle_snapshot(m.from, m.term, snapshot)
            }
            _ => Ok(()),
        }
    }

    fn heard_from_leader(&mut self, leader: NodeId) {
        self.election_elapsed = 0;
        self.leader = Some(leader);
        if let Some(l) = &mut self.lease {
            l.heard_from_leader();
        }
    }

    /// Lease mode: fewer than `election_tick` ticks since this node heard
    /// from a leader (or started), so a lease it acknowledged may still run.
    pub fn lease_guards_votes(&self) -> bool {
        self.lease
            .as_ref()
            .is_some_and(|l| l.guards_votes(self.election_tick))
    }
}
