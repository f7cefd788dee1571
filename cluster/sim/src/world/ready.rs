//! A node's Ready loop in the simulator: the test kit's driver with a
//! `ReadyHost` that sends through the simulated network, may crash the node
//! before its write is durable (`crash_at_next_write`), applies entries to
//! the node's `AppState`, and reports everything to the invariants.
//! Compaction follows once the node is quiet.

use faultline_raft::testkit::{self, Drained, MemDisk, ReadyHost, Send};
use faultline_raft::{Entry, Index, Message, MessageBody, NodeId, RawNode, ReadState, Ready};

use super::World;
use super::clients::{is_response, read_id};
use super::events::{Delayed, EventKind};
use crate::invariants::is_command;
use crate::node::AppState;
use crate::trace::fmt_message;

impl World {
    /// Puts a message on the network: lost, delayed, or duplicated as the
    /// link's faults draw it.
    pub(super) fn send(&mut self, msg: Message) {
        self.stats.messages_sent += 1;
        if !is_response(&msg.body) {
            self.stats.requests_sent += 1;
        }
        let (from, to) = ((msg.from - 1) as usize, (msg.to - 1) as usize);
        if self.bounce_voters > 0.0
            && matches!(msg.body, MessageBody::RequestVoteResponse { reject: false })
            && self.fault_rng.chance(self.bounce_voters)
        {
            let down = self.fault_rng.range(0, 1);
            let up = down + self.fault_rng.range(1, 3);
            self.schedule(down, Delayed::Crash(from));
            self.schedule(up, Delayed::Restart(from));
        }
        if to >= self.nodes.len() || !self.net.connected(from, to) {
            self.note(|| format!("n{} -x n{} {} (cut)", msg.from, msg.to, fmt_message(&msg)));
            return;
        }
        let fate = self.net.fate();
        match fate.copies {
            [None, _] => {
                self.note(|| format!("n{} -x n{} {} (lost)", msg.from, msg.to, fmt_message(&msg)));
            }
            [Some(d), None] => self.push(self.now + d, EventKind::Deliver(msg)),
            [Some(d1), Some(d2)] => {
                self.push(self.now + d1, EventKind::Deliver(msg.clone()));
                self.push(self.now + d2, EventKind::Deliver(msg));
            }
        }
    }

    /// Handles every `Ready` of node `i`, then snapshots if it is time.
    pub(super) fn drain(&mut self, i: usize) {
        loop {
            let id = self.nodes[i].id;
            let mut host = SimHost { world: self, i, id };
            if testkit::drain(&mut host, usize::MAX) != Drained::Quiet {
                return;
            }
            match self.nodes[i].maybe_compact() {
                Some(index) => {
                    self.stats.snapshots += 1;
                    self.note(|| format!("n{id} snapshot at index {index}"));
                }
                None => return,
            }
        }
    }
}

/// Node `i` (id `id`) of a world, as the Ready driver's host.
struct SimHost<'a> {
    world: &'a mut World,
    i: usize,
    id: NodeId,
}

impl ReadyHost for SimHost<'_> {
    fn core(&mut self) -> Option<&mut RawNode> {
        self.world.nodes[self.i].raw.as_mut()
    }

    fn disk(&mut self) -> &mut MemDisk {
        &mut self.world.nodes[self.i].disk
    }

    fn send(&mut self, msg: Message, _when: Send) {
        self.world.send(msg);
    }

    /// Role changes: traced and checked (Election Safety, Leader Completeness).
    fn begin(&mut self, rd: &Ready) {
        let (w, i, id) = (&mut *self.world, self.i, self.id);
        if let Some(hs) = &rd.hard_state {
            w.nodes[i].term = hs.term;
        }
        if let Some(ss) = &rd.soft_state {
            let (role, term) = (ss.role, w.nodes[i].term);
            if role != w.nodes[i].role {
                w.note(|| format!("n{id} becomes {role:?} (term {term})"));
            }
            w.nodes[i].role = role;
            let r = w.inv.on_role(id, role, term);
            w.record(r);
        }
    }

    /// A node armed by `crash_at_next_write` crashes here.
    fn before_persist(&mut self, rd: &Ready) -> bool {
        let (w, i, id) = (&mut *self.world, self.i, self.id);
        if !w.armed[i] {
            return true;
        }
        w.armed[i] = false;
        let lost = rd.entries.len();
        w.note(|| format!("crash n{id} before its write is durable ({lost} entries lost)"));
        w.crash_now(i);
        false
    }

    /// The write is durable: check the entries, restore a received
    /// snapshot into the application, check the new commit index.
    fn persisted(&mut self, rd: &Ready) {
        let (w, i, id) = (&mut *self.world, self.i, self.id);
        if !rd.entries.is_empty() {
            let r = w.inv.on_entries(id, &rd.entries);
            w.record(r);
        }
        if let Some(snap) = &rd.snapshot {
            let (index, term) = (snap.meta.index, snap.meta.term);
            if index > w.nodes[i].app.applied {
                let state = AppState::decode(&snap.data);
                let r = w.inv.on_restore(id, index, state);
                w.record(r);
                w.nodes[i].app = state.unwrap_or_default();
                w.note(|| format!("n{id} installs snapshot at (i{index},t{term})"));
            }
            let entries = w.nodes[i]
                .raw
                .as_ref()
                .map(|r| r.log_entries().to_vec())
                .unwrap_or_default();
            let r = w.inv.reset_log(id, index, term, &entries);
            w.record(r);
        }
        if let Some(hs) = &rd.hard_state
            && hs.commit != w.nodes[i].commit
        {
            let commit = hs.commit;
            w.nodes[i].commit = commit;
            let r = w.inv.on_commit(id, commit);
            w.record(r);
        }
    }

    fn apply(&mut self, entries: &[Entry]) {
        let (w, i, id) = (&mut *self.world, self.i, self.id);
        for e in entries {
            let before = w.nodes[i].app;
            let after = before.after(e);
            let r = w.inv.on_apply(id, e, before, after);
            w.record(r);
            w.nodes[i].app = after;
            if is_command(e) {
                w.watch_apply(e);
            }
        }
    }

    fn serve_reads(&mut self, reads: &[ReadState], _applied: Index) {
        let (w, i, id) = (&mut *self.world, self.i, self.id);
        for rs in reads {
            w.stats.read_states += 1;
            let rid = read_id(&rs.ctx);
            let applied = w.nodes[i].app.applied;
            w.note(|| {
                format!(
                    "n{id} read state {:?} at index {} (applied {applied})",
                    String::from_utf8_lossy(&rs.ctx),
                    rs.index
                )
            });
            let r = w.inv.on_read_state(id, rid, rs);
            w.record(r);
        }
    }
}
