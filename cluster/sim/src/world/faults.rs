//! Faults a world can suffer, as the schedule (or a test) asks: crashes
//! (now, or at a node's next write), restarts from disk, and network faults
//! (partitions, cut links, isolation, loss, duplication and delays).

use super::events::EventKind;
use super::{TICK, World};
use crate::error::SimError;
use crate::invariants::Property;
use crate::network::{LinkFaults, describe_groups};

impl World {
    /// Starts node `i` from its disk and tells the invariants what it holds.
    pub(super) fn start_node(&mut self, i: usize) -> Result<(), SimError> {
        let config = self.node_config(i);
        let id = self.nodes[i].id;
        self.nodes[i]
            .start(config)
            .map_err(|source| SimError::Start { node: id, source })?;
        let disk = &self.nodes[i].disk;
        let (snap_index, snap_term) = disk
            .snapshot
            .as_ref()
            .map_or((0, 0), |s| (s.meta.index, s.meta.term));
        let commit = disk.hard_state.commit;
        let entries = disk.entries.clone();
        let app = self.nodes[i].app;
        self.inv.forget_role(id, commit);
        let r = self.inv.reset_log(id, snap_index, snap_term, &entries);
        self.record(r);
        if snap_index > 0 {
            let r = self.inv.on_restore(id, snap_index, Some(app));
            self.record(r);
        }
        let life = self.nodes[i].incarnation;
        let phase = self.fault_rng.range(1, TICK);
        self.push(self.now + phase, EventKind::Tick { node: i, life });
        self.drain(i);
        Ok(())
    }

    pub(super) fn crash_now(&mut self, i: usize) {
        let id = self.nodes[i].id;
        self.nodes[i].crash();
        self.stats.crashes += 1;
        let commit = self.nodes[i].disk.hard_state.commit;
        self.inv.forget_role(id, commit);
        self.inv.drop_reads_of(id);
    }

    /// Crashes node `i` (index from 0): everything not on its disk is lost.
    pub fn crash(&mut self, i: usize) {
        if !self.nodes[i].alive() {
            return;
        }
        let id = self.nodes[i].id;
        self.note(|| format!("crash n{id}"));
        self.crash_now(i);
    }

    /// Crashes node `i` at its next write, after its immediate messages left
    /// but before anything of that write is durable.
    pub fn crash_at_next_write(&mut self, i: usize) {
        if self.nodes[i].alive() {
            self.armed[i] = true;
        }
    }

    /// Cancels every pending crash-at-next-write.
    pub fn disarm_all(&mut self) {
        self.armed.iter_mut().for_each(|a| *a = false);
    }

    /// Restarts node `i` from its disk (no-op when it is running).
    pub fn restart(&mut self, i: usize) {
        if self.nodes[i].alive() {
            return;
        }
        self.armed[i] = false;
        let id = self.nodes[i].id;
        let d = &self.nodes[i].disk;
        let (hs, snap, last) = (d.hard_state.clone(), d.snapshot_index(), d.last_index());
        self.note(|| {
            format!(
                "restart n{id} (term {}, vote {:?}, commit {}, snapshot {snap}, last index {last})",
                hs.term, hs.vote, hs.commit
            )
        });
        if let Err(e) = self.start_node(i) {
            self.report(
                Property::Liveness,
                format!("n{id} could not restart from its disk: {e}"),
            );
        }
    }

    /// Splits the network into groups of node indices.
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        self.net.partition(groups);
        self.note(|| format!("partition {}", describe_groups(groups)));
    }

    /// Cuts or restores one direction of one link.
    pub fn set_link(&mut self, from: usize, to: usize, up: bool) {
        self.net.set_link(from, to, up);
        self.note(|| {
            format!(
                "link n{} -> n{} {}",
                from + 1,
                to + 1,
                if up { "up" } else { "cut" }
            )
        });
    }

    /// Cuts (or restores) node `i` from everyone.
    pub fn set_isolated(&mut self, i: usize, isolated: bool) {
        self.net.set_isolated(i, isolated);
        self.note(|| {
            format!(
                "{} n{}",
                if isolated { "isolate" } else { "reconnect" },
                i + 1
            )
        });
    }

    /// Restores every link.
    pub fn heal_links(&mut self) {
        self.net.heal_links();
        self.note(|| "heal all links".to_string());
    }

    /// Sets loss, duplication and delays.
    pub fn set_link_faults(&mut self, faults: LinkFaults) {
        self.net.faults = faults;
        self.note(|| {
            format!(
                "network loss {:.2} dup {:.2} delay {}..{} long-reorder {:.2}",
                faults.loss,
                faults.duplicate,
                faults.min_delay,
                faults.max_delay,
                faults.long_reorder
            )
        });
    }
}
