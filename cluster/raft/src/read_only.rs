//! ReadIndex bookkeeping of a leader: requests waiting for the leader's first
//! commit of its term, and requests waiting for a heartbeat quorum to confirm
//! the leader is still the leader. See `RawNode::read_index`.

use crate::types::{Index, NodeId, ReadState};

/// A read waiting for a heartbeat quorum.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadRequest {
    /// The leader's commit index when the read arrived: the read point.
    pub index: Index,
    pub ctx: Vec<u8>,
    /// Who confirmed leadership for this read (the leader included), sorted.
    pub acks: Vec<NodeId>,
}

/// The leader's queue of reads, in arrival order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReadOnly {
    /// Reads that arrived before the leader committed an entry of its term.
    pub waiting: Vec<Vec<u8>>,
    /// Reads in a heartbeat round.
    pub pending: Vec<ReadRequest>,
}

impl ReadOnly {
    /// Whether a read with this ctx is already queued.
    pub fn contains(&self, ctx: &[u8]) -> bool {
        self.waiting.iter().any(|c| c == ctx) || self.pending.iter().any(|r| r.ctx == ctx)
    }

    /// Queue a read at `index`, acknowledged by the leader itself.
    pub fn add_pending(&mut self, index: Index, ctx: Vec<u8>, leader: NodeId) {
        self.pending.push(ReadRequest {
            index,
            ctx,
            acks: vec![leader],
        });
    }

    /// Record `from`'s heartbeat answer for `ctx`; returns the number of acks
    /// of that read, or None if no such read is pending.
    pub fn ack(&mut self, from: NodeId, ctx: &[u8]) -> Option<usize> {
        let req = self.pending.iter_mut().find(|r| r.ctx == ctx)?;
        if let Err(pos) = req.acks.binary_search(&from) {
            req.acks.insert(pos, from);
        }
        Some(req.acks.len())
    }

    /// How many of the acks of read `ctx` come from `voters` (sorted).
    pub fn acks_among(&self, ctx: &[u8], voters: &[NodeId]) -> usize {
        self.pending.iter().find(|r| r.ctx == ctx).map_or(0, |r| {
            r.acks
                .iter()
                .filter(|a| voters.binary_search(a).is_ok())
                .count()
        })
    }

    /// The read `ctx` reached a quorum: it and every read queued before it
    /// (confirmed by the same or a later round) are released.
    pub fn release_through(&mut self, ctx: &[u8]) -> Vec<ReadState> {
        let Some(pos) = self.pending.iter().position(|r| r.ctx == ctx) else {
            return Vec::new();
        };
        self.pending
            .drain(..=pos)
            .map(|r| ReadState {
                index: r.index,
                ctx: r.ctx,
            })
            .collect()
    }

    /// The newest read in a heartbeat round, to piggyback on heartbeats.
    pub fn last_pending_ctx(&self) -> Option<&[u8]> {
        self.pending.last().map(|r| r.ctx.as_slice())
    }

    pub fn clear(&mut self) {
        self.waiting.clear();
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_releases_earlier_reads_too() {
        let mut ro = ReadOnly::default();
        ro.add_pending(3, b"a".to_vec(), 1);
        ro.add_pending(4, b"b".to_vec(), 1);
        ro.add_pending(4, b"c".to_vec(), 1);
        assert_eq!(ro.ack(2, b"b"), Some(2));
        assert_eq!(ro.ack(2, b"b"), Some(2), "duplicate acks count once");
        assert_eq!(ro.ack(2, b"zzz"), None);
        let released = ro.release_through(b"b");
        assert_eq!(
            released,
            vec![
                ReadState {
                    index: 3,
                    ctx: b"a".to_vec()
                },
                ReadState {
                    index: 4,
                    ctx: b"b".to_vec()
                }
            ]
        );
        assert_eq!(ro.last_pending_ctx(), Some(&b"c"[..]));
        assert!(ro.contains(b"c"));
        assert!(!ro.contains(b"a"));
    }
}
