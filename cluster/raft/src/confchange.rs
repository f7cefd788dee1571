//! Single-server membership changes in the state machine (Raft dissertation
//! §4.1–4.2): proposing a change, the configuration following the log, and
//! the leader stepping down once its own removal commits.
//!
//! - A change takes effect on a node as soon as its entry is in the node's
//!   log (appended by a leader, or received by a follower), not when it
//!   commits; truncating the entry reverts the configuration. A node's
//!   configuration is therefore a function of its log: the snapshot's (or,
//!   without one, `Config::peers`), then every change in the retained log.
//! - A leader proposes a change only after it has committed an entry of its
//!   own term (its no-op), and only when no earlier change is uncommitted
//!   (Ongaro, raft-dev 2015; the planted bug `reconfig-no-noop` skips the
//!   first rule).
//! - Quorums (votes, commit, ReadIndex, CheckQuorum, leases) count the
//!   voters of the current configuration; a leader that removed itself
//!   keeps leading without counting itself until the removal commits, then
//!   steps down. A node outside the voters never campaigns.

use tracing::debug;

use crate::conf::{ConfChange, ConfChangeError, ConfState};
use crate::error::RaftError;
use crate::log::RaftLog;
use crate::progress::Progress;
use crate::raft::Raft;
use crate::types::{EntryKind, Index, NodeId, Role, Term};

/// The configuration at the log's snapshot point: the snapshot's when it
/// records one, the initial voters otherwise.
fn base_conf(initial: &[NodeId], log: &RaftLog) -> ConfState {
    let meta = &log.snapshot().meta;
    if meta.index > 0 && !meta.voters.is_empty() {
        ConfState {
            voters: meta.voters.clone(),
            learners: meta.learners.clone(),
        }
    } else {
        ConfState::with_voters(initial.to_vec())
    }
}

/// The configuration after the changes in `log` up to `upto`, and the
/// (index, term) of the latest of them ((0, 0): none).
fn conf_upto(initial: &[NodeId], log: &RaftLog, upto: Index) -> (ConfState, (Index, Term)) {
    let mut conf = base_conf(initial, log);
    let mut at = (0, 0);
    for e in log.entries().iter().take_while(|e| e.index <= upto) {
        if let EntryKind::ConfChange(cc) = e.kind {
            conf.apply(cc);
            at = (e.index, e.term);
        }
    }
    (conf, at)
}

/// The configuration a restarted node starts with: the snapshot's (or the
/// initial voters) plus every change in the persisted log.
pub(crate) fn restore_conf(initial: &[NodeId], log: &RaftLog) -> (ConfState, (Index, Term)) {
    conf_upto(initial, log, log.last_index())
}

impl Raft {
    /// The current configuration.
    pub fn conf_state(&self) -> ConfState {
        ConfState {
            voters: self.peers.clone(),
            learners: self.learners.clone(),
        }
    }

    /// The configuration as of `index` (for a snapshot at `index`).
    pub fn conf_as_of(&self, index: Index) -> ConfState {
        conf_upto(&self.initial_voters, &self.log, index).0
    }

    /// Everyone a leader replicates to: voters and learners but itself.
    pub fn replication_targets(&self) -> Vec<NodeId> {
        let me = self.id;
        let mut ids: Vec<NodeId> = self
            .peers
            .iter()
            .chain(&self.learners)
            .copied()
            .filter(|&p| p != me)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Leader: propose `change`; it takes effect here at once (it is in the
    /// log) and returns the index of its entry. `context` is opaque bytes
    /// the host stores in the entry's data (kvnode: the new member's
    /// address); the core never reads it.
    pub fn propose_conf_change(
        &mut self,
        change: ConfChange,
        context: Vec<u8>,
    ) -> Result<Index, RaftError> {
        if self.role != Role::Leader {
            return Err(RaftError::NotLeader {
                leader: self.leader,
            });
        }
        if !self.bugs.reconfig_no_noop && !self.committed_in_term() {
            debug!(
                node = self.id,
                term = self.term,
                %change,
                "configuration change refused: no commit in this term yet"
            );
            return Err(ConfChangeError::NoCommitInTerm.into());
        }
        if self.conf_at.0 > self.log.committed() {
            return Err(ConfChangeError::Pending {
                index: self.conf_at.0,
            }
            .into());
        }
        let mut conf = self.conf_state();
        conf.check(change)?;
        conf.apply(change);
        let index = self.append_entry(EntryKind::ConfChange(change), context);
        self.conf_at = (index, self.term);
        debug!(
            node = self.id,
            term = self.term,
            index,
            %change,
            voters = ?conf.voters,
            learners = ?conf.learners,
            "configuration change appended"
        );
        self.set_conf(conf, index);
        self.bcast_append();
        Ok(index)
    }

    /// Adopt `conf`, whose latest change is at `index`. A leader starts
    /// tracking new members (probing from `index`); it keeps replicating to
    /// a removed one until the removal commits (so that node learns it was
    /// removed and stops campaigning), see `after_commit_conf`.
    fn set_conf(&mut self, conf: ConfState, index: Index) {
        self.peers = conf.voters;
        self.learners = conf.learners;
        if self.role != Role::Leader {
            return;
        }
        let targets = self.replication_targets();
        for id in targets {
            if let Err(pos) = self.progress.binary_search_by_key(&id, |p| p.id) {
                let mut pr = Progress::new(id, index.saturating_sub(1));
                // Like a fresh leader's followers: active for the first
                // CheckQuorum round.
                pr.recent_active = true;
                self.progress.insert(pos, pr);
            }
        }
    }

    /// Follower: the log changed (entries appended, maybe truncated, or a
    /// snapshot installed); recompute the configuration when it may differ.
    pub fn log_changed(&mut self, appended_conf: bool, snapshot: bool) {
        let (index, term) = self.conf_at;
        let conf_truncated = index > self.log.snapshot_index() && !self.log.matches(index, term);
        if !(appended_conf || snapshot || conf_truncated) {
            return;
        }
        let (conf, at) = restore_conf(&self.initial_voters, &self.log);
        self.conf_at = at;
        if conf.voters != self.peers || conf.learners != self.learners {
            debug!(
                node = self.id,
                term = self.term,
                voters = ?conf.voters,
                learners = ?conf.learners,
                conf_index = at.0,
                "configuration changed"
            );
            self.set_conf(conf, at.0);
        }
    }

    /// Leader, after commit advanced (and was broadcast): once the latest
    /// change commits, stop tracking removed nodes; if it removed this
    /// node, step down (it kept leading, without counting itself, until
    /// then).
    pub fn after_commit_conf(&mut self) {
        if self.role != Role::Leader || self.log.committed() < self.conf_at.0 {
            return;
        }
        if self.progress.iter().any(|p| !self.is_member(p.id)) {
            let (voters, learners) = (&self.peers, &self.learners);
            self.progress.retain(|p| {
                voters.binary_search(&p.id).is_ok() || learners.binary_search(&p.id).is_ok()
            });
        }
        if !self.is_voter(self.id) {
            debug!(
                node = self.id,
                term = self.term,
                commit = self.log.committed(),
                "removed from the configuration and the removal is committed; stepping down"
            );
            self.become_follower(self.term, None);
        }
    }
}
