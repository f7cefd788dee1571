//! A simulated server: the Raft core it drives (absent while crashed), its
//! disk (the test kit's `MemDisk`: a crash keeps it, a restart reads it
//! back), and its application: a state machine that folds applied commands
//! into a digest and snapshots that digest now and then through `compact()`.

use faultline_raft::testkit::MemDisk;
use faultline_raft::testkit::hash::{entry_hash, mix};
use faultline_raft::{
    Config, Entry, Index, RaftError, RawNode, Role, Snapshot, SnapshotMeta, Term,
};

/// The application state of a node: how far it applied and a digest of
/// everything it applied (the whole state machine, in 16 bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppState {
    pub applied: Index,
    pub digest: u64,
}

impl AppState {
    /// Snapshot bytes: applied index and digest, little endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        out.extend_from_slice(&self.applied.to_le_bytes());
        out.extend_from_slice(&self.digest.to_le_bytes());
        out
    }

    /// Reads snapshot bytes back; `None` when they are not 16 bytes.
    pub fn decode(data: &[u8]) -> Option<AppState> {
        if data.len() != 16 {
            return None;
        }
        let applied = u64::from_le_bytes(data[..8].try_into().ok()?);
        let digest = u64::from_le_bytes(data[8..].try_into().ok()?);
        Some(AppState { applied, digest })
    }

    /// The state after applying `entry`.
    pub fn after(&self, entry: &Entry) -> AppState {
        AppState {
            applied: entry.index,
            digest: mix(self.digest, entry_hash(entry)),
        }
    }
}

/// One simulated server.
#[derive(Debug)]
pub struct SimNode {
    pub id: u64,
    /// The running core; `None` while crashed.
    pub raw: Option<RawNode>,
    pub disk: MemDisk,
    pub app: AppState,
    /// Counts restarts; tick events of an earlier life are ignored.
    pub incarnation: u32,
    /// What the node last reported about itself (kept while crashed).
    pub role: Role,
    pub term: Term,
    pub commit: Index,
    /// Take a snapshot once this many entries were applied since the last one.
    pub snapshot_every: u64,
}

impl SimNode {
    pub fn new(id: u64, snapshot_every: u64) -> SimNode {
        SimNode {
            id,
            raw: None,
            disk: MemDisk::default(),
            app: AppState::default(),
            incarnation: 0,
            role: Role::Follower,
            term: 0,
            commit: 0,
            snapshot_every,
        }
    }

    pub fn alive(&self) -> bool {
        self.raw.is_some()
    }

    /// Starts the core from the disk; the application restores from the
    /// durable snapshot (the core re-emits committed entries after it).
    pub fn start(&mut self, config: Config) -> Result<(), RaftError> {
        let raw = RawNode::new(config, self.disk.persisted())?;
        self.app = match &self.disk.snapshot {
            Some(s) => AppState::decode(&s.data).unwrap_or_default(),
            None => AppState::default(),
        };
        self.role = Role::Follower;
        self.term = self.disk.hard_state.term;
        self.commit = self.disk.hard_state.commit;
        self.incarnation += 1;
        self.raw = Some(raw);
        Ok(())
    }

    /// Drops everything volatile.
    pub fn crash(&mut self) {
        self.raw = None;
        self.app = AppState::default();
        self.role = Role::Follower;
    }

    /// Compacts the log when enough was applied since the last snapshot:
    /// the snapshot is made durable, then the core drops the covered log.
    /// Returns the snapshot index when one was taken. The snapshot records
    /// the configuration as of its index, as the core computed it.
    pub fn maybe_compact(&mut self) -> Option<Index> {
        let raw = self.raw.as_mut()?;
        let index = self.app.applied;
        if index < self.disk.snapshot_index() + self.snapshot_every.max(1) {
            return None;
        }
        let term = raw.term_at(index)?;
        let data = self.app.encode();
        raw.compact(index, data.clone()).ok()?;
        let conf = &raw.snapshot().meta;
        self.disk.store_snapshot(Snapshot {
            meta: SnapshotMeta {
                index,
                term,
                voters: conf.voters.clone(),
                learners: conf.learners.clone(),
            },
            data,
        });
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    use faultline_raft::EntryKind;

    use super::*;

    #[test]
    fn app_state_round_trips_and_digests_depend_on_content() {
        let s = AppState {
            applied: 7,
            digest: 99,
        };
        assert_eq!(AppState::decode(&s.encode()), Some(s));
        assert_eq!(AppState::decode(b"short"), None);
        let a = Entry {
            term: 1,
            index: 1,
            kind: EntryKind::Normal,
            data: b"v1".to_vec(),
        };
        let b = Entry {
            data: b"v2".to_vec(),
            ..a.clone()
        };
        let base = AppState::default();
        assert_ne!(base.after(&a).digest, base.after(&b).digest);
        assert_eq!(base.after(&a).applied, 1);
    }
}
