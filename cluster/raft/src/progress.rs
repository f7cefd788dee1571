//! What a leader knows about each follower's log and how it replicates to it:
//! the match/next indexes, the Probe / Replicate / Snapshot states of
//! etcd-raft, and the window of in-flight AppendEntries (pipelining).

use crate::types::{Index, NodeId};

/// How the leader is currently sending to a follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgressState {
    /// The follower's log position is unknown: send one AppendEntries at a
    /// time and wait for its answer.
    Probe,
    /// The follower is known to match: stream AppendEntries optimistically,
    /// up to `max_inflight` outstanding.
    Replicate,
    /// The follower needs the snapshot at `pending`; send nothing else.
    Snapshot { pending: Index },
}

/// The leader's record of one follower.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Progress {
    pub id: NodeId,
    /// Highest index known to match the leader's log.
    pub matched: Index,
    /// Next index to send.
    pub next: Index,
    pub state: ProgressState,
    /// In Probe: an AppendEntries is outstanding, wait for its answer.
    pub probe_sent: bool,
    /// Last indexes of the AppendEntries in flight (Replicate), oldest first.
    pub inflight: Vec<Index>,
    /// Heard from this follower since the last CheckQuorum round.
    pub recent_active: bool,
    /// `next - 1` when the last heartbeat was sent: entries up to here were
    /// sent before it, so a heartbeat answer with `matched` below it means
    /// they were lost.
    pub sent_before_heartbeat: Index,
}

impl Progress {
    /// A fresh record for a new leader whose last index is `last_index`.
    pub fn new(id: NodeId, last_index: Index) -> Progress {
        Progress {
            id,
            matched: 0,
            next: last_index + 1,
            state: ProgressState::Probe,
            probe_sent: false,
            inflight: Vec::new(),
            recent_active: false,
            sent_before_heartbeat: 0,
        }
    }

    /// Whether sending must wait (probe outstanding, window full, snapshot).
    pub fn is_paused(&self, max_inflight: usize) -> bool {
        match self.state {
            ProgressState::Probe => self.probe_sent,
            ProgressState::Replicate => self.inflight.len() >= max_inflight,
            ProgressState::Snapshot { .. } => true,
        }
    }

    pub fn become_probe(&mut self) {
        let next = match self.state {
            ProgressState::Snapshot { pending } => (self.matched + 1).max(pending + 1),
            _ => self.matched + 1,
        };
        self.state = ProgressState::Probe;
        self.next = next;
        self.probe_sent = false;
        self.inflight.clear();
    }

    pub fn become_replicate(&mut self) {
        self.state = ProgressState::Replicate;
        self.next = self.matched + 1;
        self.probe_sent = false;
        self.inflight.clear();
    }

    pub fn become_snapshot(&mut self, pending: Index) {
        self.state = ProgressState::Snapshot { pending };
        self.probe_sent = false;
        self.inflight.clear();
    }

    /// Record that an AppendEntries ending at `last` was sent (entries or not).
    pub fn sent_append(&mut self, last: Option<Index>) {
        match self.state {
            ProgressState::Replicate => {
                if let Some(last) = last {
                    self.next = last + 1;
                    self.inflight.push(last);
                }
            }
            ProgressState::Probe => self.probe_sent = true,
            ProgressState::Snapshot { .. } => {}
        }
    }

    /// A successful answer says the follower matches up to `index`. Returns
    /// whether that is news.
    pub fn maybe_update(&mut self, index: Index) -> bool {
        let updated = index > self.matched;
        if updated {
            self.matched = index;
            self.probe_sent = false;
        }
        self.next = self.next.max(index + 1);
        self.inflight.retain(|&last| last > index);
        updated
    }

    /// A rejection of the AppendEntries with `prev_log_index == rejected`;
    /// `candidate` is the next index the hint suggests. Returns false when the
    /// rejection is stale (answers an older send) and must be ignored.
    pub fn maybe_decr_to(&mut self, rejected: Index, candidate: Index) -> bool {
        match self.state {
            ProgressState::Replicate => {
                if rejected <= self.matched {
                    return false;
                }
            }
            ProgressState::Probe => {
                if self.next == 0 || rejected != self.next - 1 {
                    return false;
                }
            }
            ProgressState::Snapshot { .. } => return false,
        }
        // Any accepted rejection means the optimistic stream went wrong: probe.
        self.state = ProgressState::Probe;
        self.inflight.clear();
        self.next = candidate.min(rejected).max(self.matched + 1);
        self.probe_sent = false;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_pauses_until_answer() {
        let mut p = Progress::new(2, 5);
        assert_eq!(p.next, 6);
        assert!(!p.is_paused(4));
        p.sent_append(Some(7));
        assert!(p.is_paused(4));
        assert_eq!(p.next, 6, "probe does not move next optimistically");
        assert!(p.maybe_update(7));
        assert!(!p.is_paused(4));
        assert_eq!((p.matched, p.next), (7, 8));
    }

    #[test]
    fn replicate_pipelines_up_to_the_window() {
        let mut p = Progress::new(2, 5);
        p.maybe_update(5);
        p.become_replicate();
        for last in [7, 9, 11] {
            assert!(!p.is_paused(3));
            p.sent_append(Some(last));
        }
        assert!(p.is_paused(3));
        assert_eq!(p.next, 12);
        p.maybe_update(9);
        assert_eq!(p.inflight, vec![11]);
        assert!(!p.is_paused(3));
    }

    #[test]
    fn stale_rejections_are_ignored() {
        let mut p = Progress::new(2, 10);
        // Probe: only a rejection of next - 1 counts.
        assert!(!p.maybe_decr_to(5, 3));
        assert!(p.maybe_decr_to(10, 4));
        assert_eq!(p.next, 4);
        // Replicate: a rejection at or below match is stale.
        p.maybe_update(6);
        p.become_replicate();
        assert!(!p.maybe_decr_to(6, 1));
        assert!(p.maybe_decr_to(8, 3));
        assert_eq!(p.next, 7, "never below match + 1");
        assert_eq!(p.state, ProgressState::Probe);
    }

    #[test]
    fn snapshot_state_pauses_and_resumes_after_it() {
        let mut p = Progress::new(2, 10);
        p.become_snapshot(8);
        assert!(p.is_paused(8));
        assert!(!p.maybe_decr_to(9, 1));
        p.maybe_update(8);
        p.become_probe();
        assert_eq!(p.next, 9);
    }
}
