//! The model's host of the test kit's Ready driver
//! (`faultline_raft::testkit::driver`): it runs one server's Ready loop to
//! quiescence, deterministically, in the order the core's contract asks
//! (send the messages that may leave at once, make the snapshot, entries
//! and hard state durable on the server's `MemDisk`, send the messages that
//! had to wait for that, apply the committed entries, serve read states,
//! `advance`, and again while the core has work). Sending puts messages in
//! the model's network; applying feeds the ghost history and the clients.
//! A step of the model therefore never leaves a server halfway through a
//! Ready; the gaps this leaves (a crash between sending and persisting) are
//! listed in the module docs of `raft_model`.

use std::sync::Arc;

use faultline_raft::testkit::{self, Drained, MemDisk, ReadyHost, Send};
use faultline_raft::{Entry, EntryKind, Index, Message, NodeId, RawNode, ReadState};

use crate::raft_model::clients::Returned;
use crate::raft_model::properties::Invariant;
use crate::raft_model::state::{ModelState, index_of};

/// Upper bound on Ready rounds in one step: the core settles in a few; more
/// means it keeps producing work on its own, which breaks its contract.
const MAX_READY_ROUNDS: usize = 64;

/// Run server `id`'s Ready loop until it has nothing more to hand out.
pub fn drive(state: &mut ModelState, id: NodeId) {
    let mut host = ModelHost { state, id };
    if testkit::drain(&mut host, MAX_READY_ROUNDS) == Drained::Busy {
        Arc::make_mut(&mut host.state.ghost).violate(
            Invariant::CoreContract,
            format!("n{id} still had work after {MAX_READY_ROUNDS} Ready rounds"),
        );
    }
}

/// Server `id` of a model state, as the Ready driver's host.
struct ModelHost<'a> {
    state: &'a mut ModelState,
    id: NodeId,
}

impl ReadyHost for ModelHost<'_> {
    fn core(&mut self) -> Option<&mut RawNode> {
        Some(&mut Arc::make_mut(&mut self.state.servers[index_of(self.id)]).core)
    }

    fn disk(&mut self) -> &mut MemDisk {
        &mut Arc::make_mut(&mut self.state.servers[index_of(self.id)]).disk
    }

    fn send(&mut self, msg: Message, _when: Send) {
        self.state.network.send(msg);
    }

    /// Committed entries are observed by the ghost history (state machine
    /// safety) and return the client writes waiting for them.
    fn apply(&mut self, entries: &[Entry]) {
        let (state, id) = (&mut *self.state, self.id);
        let core = &state.server(id).core;
        let (term, voters) = (core.term(), core.peers().to_vec());
        let crashed = state.crashes > 0;
        for e in entries {
            Arc::make_mut(&mut state.ghost).observe_apply(id, term, &voters, e, crashed);
            if e.kind == EntryKind::Normal {
                let returned = Arc::make_mut(&mut state.clients).applied(id, e.index, &e.data);
                record(state, returned);
            }
        }
    }

    /// Reads return the register value as applied up to `applied`.
    fn serve_reads(&mut self, reads: &[ReadState], applied: Index) {
        let (state, id) = (&mut *self.state, self.id);
        for rs in reads {
            if rs.index > applied {
                Arc::make_mut(&mut state.ghost).violate(
                    Invariant::CoreContract,
                    format!(
                        "n{id} handed out a read state at index {} with only {applied} applied",
                        rs.index
                    ),
                );
                continue;
            }
            let value = register_value(state.server(id).core.log_entries(), applied);
            let returned = Arc::make_mut(&mut state.clients).served(id, &rs.ctx, value);
            if returned != Returned::Nothing {
                let ghost = Arc::make_mut(&mut state.ghost);
                ghost.read_returned_value |= value != 0;
            }
            record(state, returned);
        }
    }
}

fn record(state: &mut ModelState, returned: Returned) {
    if let Returned::NotLinearizable(why) = returned {
        Arc::make_mut(&mut state.ghost).violate(Invariant::LinearizableReads, why);
    }
}

/// The register value after applying `log` up to `applied`: the value of
/// the last client entry, 0 (initial) if none. The model never compacts,
/// so the log holds every applied entry.
pub fn register_value(log: &[Entry], applied: u64) -> u8 {
    log.iter()
        .rev()
        .filter(|e| e.index <= applied && e.kind == EntryKind::Normal)
        .find_map(|e| e.data.first().copied())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_value_is_the_last_applied_write() {
        let e = |index, kind, data: Vec<u8>| Entry {
            term: 1,
            index,
            kind,
            data,
        };
        let log = vec![
            e(1, EntryKind::Noop, vec![]),
            e(2, EntryKind::Normal, vec![1]),
            e(3, EntryKind::Noop, vec![]),
            e(4, EntryKind::Normal, vec![2]),
        ];
        assert_eq!(register_value(&log, 0), 0);
        assert_eq!(register_value(&log, 1), 0);
        assert_eq!(register_value(&log, 3), 1);
        assert_eq!(register_value(&log, 4), 2);
    }
}
