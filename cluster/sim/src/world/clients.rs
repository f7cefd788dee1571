//! What clients do to a world (proposals of fresh commands, ReadIndex
//! reads, a campaign on demand), how commands and reads are named, what the
//! driver asks about the nodes (who runs, who leads, how far behind), and
//! the liveness watch: a command proposed after the heal that a majority
//! applied.

use std::collections::BTreeMap;

use faultline_raft::{Entry, Index, MessageBody, RaftError, Role};

use super::World;

/// Watches for liveness: commands with an id at or above `floor` that a
/// majority applied.
#[derive(Debug, Clone)]
pub(super) struct ProgressWatch {
    floor: u64,
    counts: BTreeMap<u64, usize>,
    done_at: Option<u64>,
}

/// The client command with id `v`.
pub fn command(v: u64) -> Vec<u8> {
    format!("v{v}").into_bytes()
}

/// The id of a client command (`v17` -> 17).
pub fn command_id(data: &[u8]) -> Option<u64> {
    std::str::from_utf8(data.strip_prefix(b"v")?)
        .ok()?
        .parse()
        .ok()
}

/// Whether a message is a reply (not counted as an RPC).
pub fn is_response(body: &MessageBody) -> bool {
    matches!(
        body,
        MessageBody::PreVoteResponse { .. }
            | MessageBody::RequestVoteResponse { .. }
            | MessageBody::AppendEntriesResponse { .. }
            | MessageBody::HeartbeatResponse { .. }
    )
}

/// The id of a read (`r5` -> 5).
pub(super) fn read_id(ctx: &[u8]) -> Option<u64> {
    std::str::from_utf8(ctx.strip_prefix(b"r")?)
        .ok()?
        .parse()
        .ok()
}

impl World {
    /// A node applied client command `e`: count it for the liveness watch.
    pub(super) fn watch_apply(&mut self, e: &Entry) {
        if self.watch.as_ref().is_none_or(|w| w.done_at.is_some()) {
            return;
        }
        let majority = self.voter_majority();
        let now = self.now;
        let Some(w) = self.watch.as_mut() else { return };
        if w.done_at.is_some() {
            return;
        }
        let Some(v) = command_id(&e.data) else { return };
        if v < w.floor {
            return;
        }
        let c = w.counts.entry(v).or_insert(0);
        *c += 1;
        if *c >= majority {
            w.done_at = Some(now);
        }
    }

    /// From now on, watch for a command proposed from now on to be applied by a majority.
    pub fn watch_progress(&mut self) {
        self.watch = Some(ProgressWatch {
            floor: self.next_value,
            counts: BTreeMap::new(),
            done_at: None,
        });
    }

    /// When the watched progress happened.
    pub fn progress_at(&self) -> Option<u64> {
        self.watch.as_ref().and_then(|w| w.done_at)
    }

    /// Entries node `i` holds beyond its commit index.
    pub fn backlog(&self, i: usize) -> u64 {
        let node = &self.nodes[i];
        node.disk.last_index().saturating_sub(node.commit)
    }

    /// Node indices that are running.
    pub fn alive(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].alive())
            .collect()
    }

    /// Running nodes that believe they are leader.
    pub fn leaders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].alive() && self.nodes[i].role == Role::Leader)
            .collect()
    }

    /// Proposes a fresh client command at node `i`: its id, and the index or why not.
    pub fn propose(&mut self, i: usize) -> (u64, Result<Index, RaftError>) {
        let v = self.next_value;
        self.next_value += 1;
        (v, self.propose_data(i, command(v)))
    }

    /// Proposes `data` at node `i`.
    pub fn propose_data(&mut self, i: usize, data: Vec<u8>) -> Result<Index, RaftError> {
        self.stats.proposals += 1;
        let id = self.nodes[i].id;
        let Some(raw) = self.nodes[i].raw.as_mut() else {
            return Err(RaftError::ProposalDropped("node is down"));
        };
        let shown = String::from_utf8_lossy(&data).into_owned();
        let result = raw.propose(data);
        match &result {
            Ok(index) => self.note(|| format!("client propose {shown:?} -> n{id}: index {index}")),
            Err(e) => self.note(|| format!("client propose {shown:?} -> n{id}: {e}")),
        }
        self.drain(i);
        result
    }

    /// Asks node `i` for a ReadIndex; returns the read id.
    pub fn read(&mut self, i: usize) -> Result<u64, RaftError> {
        let rid = self.next_read;
        self.next_read += 1;
        self.stats.reads += 1;
        let id = self.nodes[i].id;
        let Some(raw) = self.nodes[i].raw.as_mut() else {
            return Err(RaftError::ProposalDropped("node is down"));
        };
        self.inv.on_read_request(rid, id);
        let floor = self.inv.max_applied();
        let result = raw.read_index(format!("r{rid}").into_bytes());
        match &result {
            Ok(()) => self
                .note(|| format!("client read \"r{rid}\" -> n{id} (acknowledged up to {floor})")),
            Err(e) => self.note(|| format!("client read \"r{rid}\" -> n{id}: {e}")),
        }
        if result.is_err() {
            self.inv.forget_read(rid);
        }
        self.drain(i);
        result.map(|()| rid)
    }

    /// Campaigns at node `i` now.
    pub fn campaign(&mut self, i: usize) {
        if let Some(raw) = self.nodes[i].raw.as_mut() {
            raw.campaign();
            self.drain(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_round_trip() {
        assert_eq!(command_id(&command(17)), Some(17));
        assert_eq!(command_id(b"x17"), None);
        assert_eq!(read_id(b"r5"), Some(5));
    }
}
