//! Leader election: campaigning (PreVote first when enabled), granting
//! (pre-)votes with the log up-to-date check, and tallying the answers.

use tracing::{debug, trace};

use crate::raft::Raft;
use crate::types::{Index, MessageBody, NodeId, Role, Term};

/// The state of a vote tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VoteResult {
    Won,
    Lost,
    Pending,
}

impl Raft {
    /// Start an election now (election timeout, or the caller's `campaign`).
    pub fn hup(&mut self) {
        if self.role == Role::Leader {
            trace!(
                node = self.id,
                term = self.term,
                "already leader; not campaigning"
            );
            return;
        }
        if !self.is_voter(self.id) {
            trace!(
                node = self.id,
                term = self.term,
                "not a voter; not campaigning"
            );
            return;
        }
        if self.lease_guards_votes() {
            // A lease this node acknowledged may still run.
            trace!(
                node = self.id,
                term = self.term,
                "within a leader's lease; not campaigning"
            );
            return;
        }
        self.campaign(self.pre_vote);
    }

    fn campaign(&mut self, pre_vote: bool) {
        let term = if pre_vote {
            self.become_pre_candidate();
            self.term + 1
        } else {
            self.become_candidate();
            self.term
        };
        if self.record_vote(self.id, true) == VoteResult::Won {
            // A group of one wins at once.
            if pre_vote {
                self.campaign(false);
            } else {
                self.become_leader();
            }
            return;
        }
        let last_log_index = self.log.last_index();
        let last_log_term = self.log.last_term();
        let others: Vec<NodeId> = self.others().collect();
        for to in others {
            let body = if pre_vote {
                MessageBody::PreVote {
                    last_log_index,
                    last_log_term,
                }
            } else {
                MessageBody::RequestVote {
                    last_log_index,
                    last_log_term,
                }
            };
            self.send(to, term, body);
        }
    }

    /// Record `from`'s answer (first answer counts) and tally.
    fn record_vote(&mut self, from: NodeId, granted: bool) -> VoteResult {
        if !self.votes.iter().any(|(v, _)| *v == from) {
            self.votes.push((from, granted));
        }
        // Only voters of the current configuration count.
        let (mut yes, mut no) = (0, 0);
        for &(v, granted) in &self.votes {
            if self.is_voter(v) {
                if granted {
                    yes += 1;
                } else {
                    no += 1;
                }
            }
        }
        if yes >= self.quorum() {
            VoteResult::Won
        } else if no >= self.quorum() {
            VoteResult::Lost
        } else {
            VoteResult::Pending
        }
    }

    /// A (pre-)vote request at `term` (>= ours, already adopted for a real
    /// vote request).
    pub fn handle_vote_request(
        &mut self,
        from: NodeId,
        term: Term,
        pre_vote: bool,
        last_log_index: Index,
        last_log_term: Term,
    ) {
        let can_vote = self.vote == Some(from)
            || (self.vote.is_none() && self.leader.is_none())
            || (pre_vote && term > self.term);
        let log_ok =
            self.bugs.no_log_check || self.log.is_up_to_date(last_log_index, last_log_term);
        let grant = can_vote && log_ok;
        debug!(
            node = self.id,
            term = self.term,
            candidate = from,
            pre_vote,
            grant,
            can_vote,
            log_ok,
            "vote request"
        );
        if pre_vote {
            // A granted PreVote answers in the asked term; a rejection tells
            // our own.
            let reply_term = if grant { term } else { self.term };
            self.send(
                from,
                reply_term,
                MessageBody::PreVoteResponse { reject: !grant },
            );
        } else {
            if grant {
                self.vote = Some(from);
                self.election_elapsed = 0;
            }
            self.send(
                from,
                self.term,
                MessageBody::RequestVoteResponse { reject: !grant },
            );
        }
    }

    /// An answer to our (pre-)vote request in the current campaign.
    pub fn handle_vote_response(&mut self, from: NodeId, reject: bool) {
        let result = self.record_vote(from, !reject);
        trace!(
            node = self.id,
            term = self.term,
            from,
            reject,
            ?result,
            "vote answer"
        );
        match result {
            VoteResult::Won => {
                if self.role == Role::PreCandidate {
                    self.campaign(false);
                } else {
                    self.become_leader();
                    self.bcast_append();
                }
            }
            VoteResult::Lost => self.become_follower(self.term, None),
            VoteResult::Pending => {}
        }
    }
}
