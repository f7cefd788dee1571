//! Drives one server's Ready loop to quiescence, deterministically, in the
//! order the core's contract (`faultline_raft::node`) asks: send the
//! messages that may leave at once, make the snapshot, entries and hard
//! state durable, send the messages that had to wait for that, apply the
//! committed entries, serve read states, `advance`, and again while the
//! core has work. A step of the model therefore never leaves a server
//! halfway through a Ready; the gaps this leaves (a crash between sending
//! and persisting) are listed in the module docs of `model`.

use std::sync::Arc;

use faultline_raft::{Entry, EntryKind, NodeId, PersistedState, Ready};

use crate::model::clients::Returned;
use crate::model::properties::Invariant;
use crate::model::state::{ModelState, index_of};

/// Upper bound on Ready rounds in one step: the core settles in a few; more
/// means it keeps producing work on its own, which breaks its contract.
const MAX_READY_ROUNDS: usize = 64;

/// Run server `id`'s Ready loop until it has nothing more to hand out.
pub fn drive(state: &mut ModelState, id: NodeId) {
    let k = index_of(id);
    for _ in 0..MAX_READY_ROUNDS {
        if !state.servers[k].core.has_ready() {
            return;
        }
        let server = Arc::make_mut(&mut state.servers[k]);
        let ready = server.core.ready();
        for m in &ready.messages {
            state.network.send(m.clone());
        }
        persist(&mut server.disk, &ready);
        for m in &ready.persisted_messages {
            state.network.send(m.clone());
        }
        apply(state, id, &ready);
        Arc::make_mut(&mut state.servers[k]).core.advance(ready);
    }
    Arc::make_mut(&mut state.ghost).violate(
        Invariant::CoreContract,
        format!("n{id} still had work after {MAX_READY_ROUNDS} Ready rounds"),
    );
}

/// Make a Ready's snapshot, entries and hard state durable.
fn persist(disk: &mut PersistedState, ready: &Ready) {
    if let Some(snapshot) = &ready.snapshot {
        let index = snapshot.meta.index;
        disk.entries.retain(|e| e.index > index);
        disk.snapshot = Some(snapshot.clone());
    }
    if let Some(first) = ready.entries.first() {
        disk.entries.retain(|e| e.index < first.index);
        disk.entries.extend(ready.entries.iter().cloned());
    }
    if let Some(hs) = &ready.hard_state {
        disk.hard_state = hs.clone();
    }
}

/// Apply a Ready's committed entries and serve its read states.
fn apply(state: &mut ModelState, id: NodeId, ready: &Ready) {
    if ready.committed_entries.is_empty() && ready.read_states.is_empty() {
        return;
    }
    let k = index_of(id);
    let term = state.servers[k].core.term();
    let crashed = state.crashes > 0;
    for e in &ready.committed_entries {
        Arc::make_mut(&mut state.ghost).observe_apply(id, term, e, crashed);
        if e.kind == EntryKind::Normal {
            let returned = Arc::make_mut(&mut state.clients).applied(id, e.index, &e.data);
            record(state, returned);
        }
    }
    let applied = ready
        .committed_entries
        .last()
        .map_or(state.servers[k].core.applied(), |e| e.index);
    for rs in &ready.read_states {
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
        let value = register_value(state.servers[k].core.log_entries(), applied);
        let returned = Arc::make_mut(&mut state.clients).served(id, &rs.ctx, value);
        if returned != Returned::Nothing {
            let ghost = Arc::make_mut(&mut state.ghost);
            ghost.read_returned_value |= value != 0;
        }
        record(state, returned);
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
