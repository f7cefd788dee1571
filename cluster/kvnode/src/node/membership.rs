//! The Ready loop's side of membership changes: admin requests on the
//! leader (proposed with the new member's address as the entry's context,
//! answered once the change commits), the address book kept current from
//! every change entry this node appends (a peer sender per new member), and
//! whether this node is a member at all (a node outside the configuration —
//! removed, or joining and not yet added — serves no client).

use faultline_raft::{ConfChange, ConfChangeError, Entry, EntryKind, RaftError, Role, Term};

use super::address_book::learned_from;
use super::admin::{AdminRequest, AdminResponse, MemberContext};
use super::events::AdminResponder;
use super::ready_loop::ReadyLoop;
use crate::rpc::PeerSender;

/// An admin request waiting for its change entry to commit.
#[derive(Debug)]
pub struct AdminWaiter {
    pub index: faultline_raft::Index,
    pub term: Term,
    pub respond: AdminResponder,
}

impl ReadyLoop {
    /// Whether this node is a voter or learner of the configuration in its
    /// log.
    pub(crate) fn is_member(&self) -> bool {
        let conf = self.raw.conf_state();
        let id = self.cfg.id;
        conf.voters.contains(&id) || conf.learners.contains(&id)
    }

    /// Leader: propose the change; answer now when it cannot be proposed.
    pub(crate) fn admin_request(&mut self, request: AdminRequest, respond: AdminResponder) {
        if self.raw.role() != Role::Leader {
            let _ = respond.send(AdminResponse::NotLeader {
                leader: self.raw.leader().filter(|&l| l != self.cfg.id),
            });
            return;
        }
        let (change, context) = match &request {
            AdminRequest::AddMember { id, addr } => (
                ConfChange::AddVoter(*id),
                MemberContext { addr: addr.clone() }.encode(),
            ),
            AdminRequest::RemoveMember { id } => (ConfChange::Remove(*id), Vec::new()),
        };
        let answer = match self.raw.propose_conf_change_with_context(change, context) {
            Ok(index) => {
                tracing::info!(%change, index, "membership change proposed");
                self.admin_waiters.push(AdminWaiter {
                    index,
                    term: self.raw.term(),
                    respond,
                });
                return;
            }
            Err(RaftError::NotLeader { leader }) => AdminResponse::NotLeader { leader },
            Err(RaftError::ConfChange(
                e @ (ConfChangeError::NoCommitInTerm | ConfChangeError::Pending { .. }),
            )) => AdminResponse::Retry(e.to_string()),
            // The core checks "one change at a time" before these: no change
            // is pending, so the group already is in the asked state, and
            // that state is committed.
            Err(RaftError::ConfChange(
                ConfChangeError::AlreadyVoter(_) | ConfChangeError::NotMember(_),
            )) => AdminResponse::Done {
                index: self.raw.commit(),
                conf: self.raw.conf_state(),
            },
            Err(e) => AdminResponse::Refused(e.to_string()),
        };
        let _ = respond.send(answer);
    }

    /// Learn the addresses of members added by `entries` (just appended to
    /// this node's log, or restored): start a peer sender for each new one.
    pub(crate) fn learn_addresses(&mut self, entries: &[Entry]) {
        for (id, addr) in entries.iter().filter_map(learned_from) {
            self.learn_address(id, addr);
        }
    }

    pub(crate) fn learn_address(&mut self, id: faultline_raft::NodeId, addr: String) {
        if id == self.cfg.id || self.addresses.get(&id) == Some(&addr) {
            return;
        }
        tracing::info!(peer = id, %addr, "learned a member's address");
        let _enter = self.runtime.enter();
        self.peers.insert(
            id,
            PeerSender::spawn(self.cfg.id, id, addr.clone(), self.rpc_cfg.clone()),
        );
        self.addresses.insert(id, addr);
    }

    /// The change entry `entry` applied: answer its admin waiter.
    pub(crate) fn change_applied(&mut self, entry: &Entry) {
        if !matches!(entry.kind, EntryKind::ConfChange(_)) {
            return;
        }
        let conf = self.raw.conf_state();
        let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.admin_waiters)
            .into_iter()
            .partition(|w| w.index <= entry.index);
        self.admin_waiters = rest;
        for w in done {
            let answer = if w.index == entry.index && w.term == entry.term {
                tracing::info!(index = entry.index, kind = ?entry.kind, "membership change committed");
                AdminResponse::Done {
                    index: entry.index,
                    conf: conf.clone(),
                }
            } else {
                AdminResponse::Retry("the change was overwritten by another leader".into())
            };
            let _ = w.respond.send(answer);
        }
    }

    /// This node stopped leading: its pending changes' fate is unknown.
    pub(crate) fn fail_admin_waiters(&mut self) {
        for w in self.admin_waiters.drain(..) {
            let _ = w.respond.send(AdminResponse::Retry(
                "the leader lost leadership before the change was decided".into(),
            ));
        }
    }
}
