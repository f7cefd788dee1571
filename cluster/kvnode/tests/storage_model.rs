//! Property test: random sequences of appends, suffix overwrites, snapshots
//! (matching and not), commit advances, vote changes and restarts, checked
//! against an in-memory model of the Raft log after every reopen.

use faultline_kvnode::storage::{Storage, StorageOptions};
use faultline_raft::{Entry, EntryKind, HardState, PersistedState, Snapshot, SnapshotMeta};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Append `count` entries starting `back` entries before the end (clamped
    /// to the uncommitted part): `back > 0` overwrites a suffix.
    Append {
        back: u64,
        count: u64,
        new_term: bool,
    },
    /// Snapshot at `commit + offset`; `matching` keeps the log's term there.
    Snapshot { offset: u64, matching: bool },
    /// Advance the commit index by up to `by`.
    Commit { by: u64 },
    /// A new term with a vote.
    Vote { vote: Option<u64> },
    /// Close and reopen.
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u64..4, 1u64..6, any::<bool>()).prop_map(|(back, count, new_term)| Op::Append { back, count, new_term }),
        1 => (0u64..6, any::<bool>()).prop_map(|(offset, matching)| Op::Snapshot { offset, matching }),
        2 => (1u64..6).prop_map(|by| Op::Commit { by }),
        1 => proptest::option::of(1u64..4).prop_map(|vote| Op::Vote { vote }),
        1 => Just(Op::Reopen),
    ]
}

/// The log as the Raft core holds it.
#[derive(Debug, Default)]
struct Model {
    base: (u64, u64),
    snapshot: Option<Snapshot>,
    entries: Vec<Entry>,
    term: u64,
    vote: Option<u64>,
    commit: u64,
}

impl Model {
    fn last(&self) -> u64 {
        self.entries.last().map_or(self.base.0, |e| e.index)
    }
    fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.base.0 {
            return Some(self.base.1);
        }
        self.entries
            .iter()
            .find(|e| e.index == index)
            .map(|e| e.term)
    }
    fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.commit,
        }
    }
    fn expected(&self) -> PersistedState {
        PersistedState {
            hard_state: HardState {
                commit: self.commit.max(self.base.0),
                ..self.hard_state()
            },
            snapshot: self.snapshot.clone(),
            entries: self.entries.clone(),
        }
    }
}

fn entry(index: u64, term: u64) -> Entry {
    Entry {
        term,
        index,
        kind: EntryKind::Normal,
        data: format!("{index}/{term}").into_bytes(),
    }
}

fn run(ops: Vec<Op>, segment_size: u64) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions { segment_size };
    let (mut storage, first) = Storage::open(dir.path(), opts.clone()).unwrap();
    prop_assert_eq!(first, PersistedState::default());
    let mut m = Model {
        term: 1,
        ..Model::default()
    };
    storage.persist(Some(&m.hard_state()), &[], None).unwrap();
    for op in ops {
        match op {
            Op::Append {
                back,
                count,
                new_term,
            } => {
                if new_term {
                    m.term += 1;
                    m.vote = None;
                }
                let floor = m.commit.max(m.base.0);
                let first = m.last() + 1 - back.min(m.last() - floor);
                let batch: Vec<Entry> = (first..first + count).map(|i| entry(i, m.term)).collect();
                storage
                    .persist(Some(&m.hard_state()), &batch, None)
                    .unwrap();
                m.entries.retain(|e| e.index < first);
                m.entries.extend(batch);
            }
            Op::Snapshot { offset, matching } => {
                let index = m.commit.max(m.base.0) + offset;
                if index <= m.base.0 {
                    continue;
                }
                let term = match m.term_at(index) {
                    Some(t) if matching => t,
                    _ => {
                        m.term += 1;
                        m.term
                    }
                };
                let snap = Snapshot {
                    meta: SnapshotMeta {
                        index,
                        term,
                        voters: vec![1, 2, 3],
                        learners: Vec::new(),
                    },
                    data: index.to_le_bytes().to_vec(),
                };
                storage
                    .persist(Some(&m.hard_state()), &[], Some(&snap))
                    .unwrap();
                if m.term_at(index) == Some(term) {
                    m.entries.retain(|e| e.index > index);
                } else {
                    m.entries.clear();
                }
                m.base = (index, term);
                m.snapshot = Some(snap);
            }
            Op::Commit { by } => {
                m.commit = (m.commit + by).min(m.last()).max(m.commit);
                storage.persist(Some(&m.hard_state()), &[], None).unwrap();
            }
            Op::Vote { vote } => {
                m.term += 1;
                m.vote = vote;
                storage.persist(Some(&m.hard_state()), &[], None).unwrap();
            }
            Op::Reopen => {
                drop(storage);
                let (s, p) = Storage::open(dir.path(), opts.clone()).unwrap();
                storage = s;
                prop_assert_eq!(p, m.expected());
            }
        }
        prop_assert_eq!(storage.last_index(), m.last());
    }
    drop(storage);
    let (_, p) = Storage::open(dir.path(), opts).unwrap();
    prop_assert_eq!(p, m.expected());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn reopen_matches_the_model(ops in prop::collection::vec(op(), 1..48), segment_size in 64u64..1024) {
        run(ops, segment_size)?;
    }
}
