//! Log replication: the leader's appends (batched, pipelined, falling back to
//! probing and snapshots), heartbeats, commit advancement (current-term rule
//! of Figure 8), and the follower's side of AppendEntries, Heartbeat and
//! InstallSnapshot with the fast-backup rejection hint.

use tracing::{debug, trace, warn};

use crate::error::RaftError;
use crate::log::AppendError;
use crate::progress::ProgressState;
use crate::raft::Raft;
use crate::types::{Entry, EntryKind, Index, MessageBody, NodeId, Role, Snapshot, Term};

impl Raft {
    /// Leader: append a new entry of the current term to the own log.
    pub fn append_entry(&mut self, kind: EntryKind, data: Vec<u8>) -> Index {
        assert!(
            self.role == Role::Leader,
            "node {} term {}: only a leader appends entries",
            self.id,
            self.term
        );
        let index = self.log.last_index() + 1;
        self.log.push(Entry {
            term: self.term,
            index,
            kind,
            data,
        });
        // A group of one commits once the entry is durable (see advance).
        index
    }

    fn progress_index(&self, id: NodeId) -> Option<usize> {
        self.progress.iter().position(|p| p.id == id)
    }

    /// Send what each follower is missing (an empty append carries commit).
    pub fn bcast_append(&mut self) {
        for i in 0..self.progress.len() {
            self.send_append(i, true);
        }
    }

    /// Send the next AppendEntries (or the snapshot) to follower `i` unless
    /// paused; with `send_if_empty` false, only if there are entries to send.
    /// Returns whether a message was sent.
    pub fn send_append(&mut self, i: usize, send_if_empty: bool) -> bool {
        let pr = &self.progress[i];
        if pr.is_paused(self.max_inflight) {
            return false;
        }
        let to = pr.id;
        let next = pr.next.min(self.log.last_index() + 1);
        let prev = next - 1;
        let Some(prev_term) = self.log.term(prev) else {
            return self.send_snapshot(i);
        };
        let entries = self.log.entries_from(next, self.max_entries).to_vec();
        if entries.is_empty() && !send_if_empty {
            return false;
        }
        let last = entries.last().map(|e| e.index);
        let commit = self.log.committed();
        self.progress[i].next = next;
        self.progress[i].sent_append(last);
        self.send(
            to,
            self.term,
            MessageBody::AppendEntries {
                prev_log_index: prev,
                prev_log_term: prev_term,
                entries,
                commit,
            },
        );
        true
    }

    fn send_snapshot(&mut self, i: usize) -> bool {
        let snapshot = self.log.snapshot().clone();
        assert!(
            snapshot.meta.index > 0,
            "node {} term {}: a compacted log must have a snapshot",
            self.id,
            self.term
        );
        let to = self.progress[i].id;
        debug!(
            node = self.id,
            term = self.term,
            to,
            index = snapshot.meta.index,
            "sending snapshot"
        );
        self.progress[i].become_snapshot(snapshot.meta.index);
        self.send(to, self.term, MessageBody::InstallSnapshot { snapshot });
        true
    }

    /// Leader: a follower answered an AppendEntries (or a snapshot).
    pub fn handle_append_response(
        &mut self,
        from: NodeId,
        reject: bool,
        index: Index,
        hint: Option<(Term, Index)>,
    ) -> Result<(), RaftError> {
        let Some(i) = self.progress_index(from) else {
            return Err(RaftError::UnknownPeer(from));
        };
        if index > self.log.last_index() {
            return Err(RaftError::InvalidMessage {
                from,
                reason: "acknowledges an index beyond the leader's log",
            });
        }
        self.progress[i].recent_active = true;
        if reject {
            let candidate = self.next_after_rejection(index, hint);
            if self.progress[i].maybe_decr_to(index, candidate) {
                trace!(
                    node = self.id,
                    term = self.term,
                    from,
                    rejected = index,
                    next = self.progress[i].next,
                    "append rejected; probing back"
                );
                self.send_append(i, true);
            }
            return Ok(());
        }
        let was_paused = self.progress[i].is_paused(self.max_inflight);
        let pr = &mut self.progress[i];
        let updated = pr.maybe_update(index);
        let probe_confirmed = pr.matched == index && pr.state == ProgressState::Probe;
        if !(updated || probe_confirmed) {
            return Ok(());
        }
        match pr.state {
            ProgressState::Probe => pr.become_replicate(),
            ProgressState::Snapshot { pending } if pr.matched >= pending => {
                pr.become_probe();
                pr.become_replicate();
            }
            _ => {}
        }
        if self.maybe_commit() {
            self.bcast_append();
        } else if was_paused {
            // It may have missed the latest commit while paused.
            self.send_append(i, true);
        }
        while self.send_append(i, false) {}
        self.after_commit_conf();
        Ok(())
    }

    /// The next index to probe after a rejection of `prev_log_index ==
    /// rejected`, from the follower's hint (see `MessageBody`).
    fn next_after_rejection(&self, rejected: Index, hint: Option<(Term, Index)>) -> Index {
        match hint {
            // The follower's log ends at `last`.
            Some((0, last)) => last + 1,
            // The follower has `term` at `rejected`, first at `first`.
            Some((term, first)) => {
                let (j, tj) = self.log.last_index_with_term_at_most(rejected, term);
                if tj == term && j >= first {
                    // We hold `term` at j too: the logs match up to j.
                    j + 1
                } else {
                    first.min(j + 1)
                }
            }
            None => rejected,
        }
    }

    /// Leader: advance commit to the highest index a quorum holds, counting
    /// this node only for what is durable here, and only if that entry is of
    /// the current term (Raft Figure 8). Returns whether commit moved.
    pub fn maybe_commit(&mut self) -> bool {
        // Voters only: learners do not count, nor does a leader that
        // removed itself (it leads until the removal commits).
        let mut matched: Vec<Index> = self
            .progress
            .iter()
            .filter(|p| self.is_voter(p.id))
            .map(|p| p.matched)
            .collect();
        if self.is_voter(self.id) {
            matched.push(self.log.persisted());
        }
        if matched.len() < self.quorum() {
            return false;
        }
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let index = matched[self.quorum() - 1];
        if index <= self.log.committed() {
            return false;
        }
        if !self.bugs.figure8 && self.log.term(index) != Some(self.term) {
            trace!(
                node = self.id,
                term = self.term,
                index,
                "quorum index holds an older term; not committing by count"
            );
            return false;
        }
        self.log.commit_to(index);
        debug!(
            node = self.id,
            term = self.term,
            commit = index,
            "commit advanced"
        );
        self.release_waiting_reads();
        true
    }

    /// Leader: a heartbeat to every follower, carrying the newest pending
    /// read's ctx.
    pub fn bcast_heartbeat(&mut self) {
        let read_ctx = self.reads.last_pending_ctx();
        let ctx = match &mut self.lease {
            // Lease mode: every heartbeat is a round that may extend the lease.
            Some(l) => Some(l.start_round(read_ctx, self.id)),
            None => read_ctx.map(<[u8]>::to_vec),
        };
        for i in 0..self.progress.len() {
            self.send_heartbeat(i, ctx.clone());
        }
    }

    fn send_heartbeat(&mut self, i: usize, ctx: Option<Vec<u8>>) {
        let pr = &mut self.progress[i];
        // Never tell a follower a commit beyond what it is known to match.
        let commit = pr.matched.min(self.log.committed());
        pr.sent_before_heartbeat = pr.next - 1;
        let to = pr.id;
        self.send(to, self.term, MessageBody::Heartbeat { commit, ctx });
    }

    /// Leader: a heartbeat answer. Proves liveness, confirms pending reads,
    /// and restarts replication that stalled on lost messages.
    pub fn handle_heartbeat_response(&mut self, from: NodeId, ctx: Option<Vec<u8>>) {
        let Some(i) = self.progress_index(from) else {
            return;
        };
        let last = self.log.last_index();
        let pr = &mut self.progress[i];
        pr.recent_active = true;
        pr.probe_sent = false;
        if pr.state == ProgressState::Replicate && pr.matched < pr.sent_before_heartbeat {
            // Appends sent before the heartbeat are unanswered: lost.
            pr.become_probe();
        }
        if pr.matched < last {
            let probing = pr.state == ProgressState::Probe;
            self.send_append(i, probing);
        }
        if let Some(ctx) = ctx {
            // A round's acks include the leader: it counts only as a voter.
            let quorum = self.quorum() + usize::from(!self.is_voter(self.id));
            let (id, term) = (self.id, self.term);
            let voter = self.is_voter(from);
            if let Some(l) = &mut self.lease
                && voter
            {
                l.ack(from, &ctx, quorum, id, term);
            }
            self.read_acked(from, &ctx);
        }
    }

    /// Follower: an AppendEntries from the leader of our term.
    pub fn handle_append(
        &mut self,
        from: NodeId,
        term: Term,
        prev: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    ) -> Result<(), RaftError> {
        let invalid = |reason| Err(RaftError::InvalidMessage { from, reason });
        let mut expect_term = prev_term;
        for (k, e) in entries.iter().enumerate() {
            if Some(e.index) != prev.checked_add(1 + k as u64) {
                return invalid("entries are not contiguous after prev_log_index");
            }
            if e.term < expect_term || e.term > term {
                return invalid("entry terms go back or exceed the message term");
            }
            expect_term = e.term;
        }
        let committed = self.log.committed();
        if prev < committed {
            // Entries we know committed must match the leader's: if not, the
            // leader lacks a committed entry (Leader Completeness broken).
            let contradicts = entries.iter().any(|e| {
                e.index <= committed
                    && e.index > self.log.snapshot_index()
                    && !self.log.matches(e.index, e.term)
            });
            if contradicts {
                warn!(
                    node = self.id,
                    term = self.term,
                    from,
                    committed,
                    "leader's entries contradict committed entries; ignoring them"
                );
                return Err(RaftError::SafetyViolation {
                    from,
                    what: "the leader's entries conflict with a committed entry",
                });
            }
            // Already known committed: tell the leader where we stand.
            self.send(
                from,
                self.term,
                MessageBody::AppendEntriesResponse {
                    reject: false,
                    index: committed,
                    hint: None,
                },
            );
            return Ok(());
        }
        if self.log.matches(prev, prev_term) {
            let last_new = match self.log.append_after(prev, &entries) {
                Ok(last_new) => last_new,
                Err(AppendError::ConflictsWithCommitted { index, committed }) => {
                    warn!(
                        node = self.id,
                        term = self.term,
                        from,
                        index,
                        committed,
                        "leader's entries conflict with committed entries; ignoring them"
                    );
                    return Err(RaftError::SafetyViolation {
                        from,
                        what: "the leader's entries conflict with a committed entry",
                    });
                }
            };
            // A configuration change takes effect once in the log (and a
            // truncated one is undone).
            let appended_conf = entries
                .iter()
                .any(|e| matches!(e.kind, EntryKind::ConfChange(_)));
            self.log_changed(appended_conf, false);
            // Entries up to last_new are verified to match the leader's.
            self.log.commit_to(commit.min(last_new));
            self.send(
                from,
                self.term,
                MessageBody::AppendEntriesResponse {
                    reject: false,
                    index: last_new,
                    hint: None,
                },
            );
            return Ok(());
        }
        let last = self.log.last_index();
        let hint = if prev > last {
            (0, last)
        } else {
            let t = self.log.term(prev).unwrap_or(0);
            (t, self.log.first_index_of_term_at(prev, committed + 1))
        };
        trace!(
            node = self.id,
            term = self.term,
            from,
            prev,
            prev_term,
            ?hint,
            "rejecting append"
        );
        self.send(
            from,
            self.term,
            MessageBody::AppendEntriesResponse {
                reject: true,
                index: prev,
                hint: Some(hint),
            },
        );
        Ok(())
    }

    /// Follower: a heartbeat from the leader of our term.
    pub fn handle_heartbeat(&mut self, from: NodeId, commit: Index, ctx: Option<Vec<u8>>) {
        self.log.commit_to(commit);
        self.send(from, self.term, MessageBody::HeartbeatResponse { ctx });
    }

    /// Follower: the leader's snapshot.
    pub fn handle_snapshot(
        &mut self,
        from: NodeId,
        term: Term,
        snapshot: Snapshot,
    ) -> Result<(), RaftError> {
        let (index, snap_term) = (snapshot.meta.index, snapshot.meta.term);
        if index == 0 || snap_term > term {
            return Err(RaftError::InvalidMessage {
                from,
                reason: "snapshot with index 0 or a term beyond the message term",
            });
        }
        let ack = if index <= self.log.committed() {
            // Stale: we already have all of it.
            self.log.committed()
        } else if self.log.matches(index, snap_term) {
            // Our log already holds it: just learn the commit.
            self.log.commit_to(index);
            self.log.committed()
        } else {
            debug!(
                node = self.id,
                term = self.term,
                from,
                index,
                "installing snapshot"
            );
            self.log.install_snapshot(snapshot);
            self.log_changed(false, true);
            index
        };
        self.send(
            from,
            self.term,
            MessageBody::AppendEntriesResponse {
                reject: false,
                index: ack,
                hint: None,
            },
        );
        Ok(())
    }
}
