//! Storage targets: files a kvnode reads from its data directory at start,
//! laid into a fresh directory and opened with `Storage::open`, as `kvnode`
//! does on restart.
//!
//! - `wal_segment`: the input is one WAL segment file, byte for byte
//!   (framing, checksums, torn-tail detection).
//! - `wal_records`: the input is a list of record payloads that the target
//!   frames with correct lengths and checksums into up to four segments, plus
//!   optional snapshot and hard-state payloads (record decoding, replay, and
//!   the reconciliation of snapshot file and WAL markers: a checksum never
//!   stands in the way).
//! - `hardstate_file`, `snapshot_file`: the input is that file, either raw
//!   (first byte even) or a payload the target wraps in a valid header
//!   (first byte odd).
//!
//! Whatever opens must open again to the same state (recovery is
//! idempotent: a truncated torn tail or a completed snapshot install stays
//! done).

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use faultline_kvnode::storage::{Storage, StorageOptions};
use faultline_raft::{Entry, EntryKind, HardState, Snapshot, SnapshotMeta};

use super::rpc::BINARY_TOKENS;
use super::scratch::fresh_dir;
use super::{InputKind, Target};

pub const WAL_SEGMENT: Target = Target {
    name: "wal_segment",
    about: "one raw WAL segment file, then Storage::open (twice when it opens)",
    kind: InputKind::Binary,
    run: run_wal_segment,
    seeds: wal_segment_seeds,
    dictionary: BINARY_TOKENS,
    short_inputs: 10_000,
};

pub const WAL_RECORDS: Target = Target {
    name: "wal_records",
    about: "record payloads framed with valid checksums into segments (+ snapshot, hardstate), then Storage::open",
    kind: InputKind::Binary,
    run: run_wal_records,
    seeds: wal_records_seeds,
    dictionary: BINARY_TOKENS,
    short_inputs: 10_000,
};

pub const HARDSTATE_FILE: Target = Target {
    name: "hardstate_file",
    about: "the hardstate file, raw or a payload with a valid header, then Storage::open",
    kind: InputKind::Binary,
    run: |data| run_atomic_file(HARDSTATE, data),
    seeds: || atomic_file_seeds(HARDSTATE),
    dictionary: BINARY_TOKENS,
    short_inputs: 10_000,
};

pub const SNAPSHOT_FILE: Target = Target {
    name: "snapshot_file",
    about: "the snapshot file, raw or a payload with a valid header, then Storage::open",
    kind: InputKind::Binary,
    run: |data| run_atomic_file(SNAPSHOT, data),
    seeds: || atomic_file_seeds(SNAPSHOT),
    dictionary: BINARY_TOKENS,
    short_inputs: 10_000,
};

const HARDSTATE: &str = "hardstate";
const SNAPSHOT: &str = "snapshot";
const WAL: &str = "wal";
/// `[8-byte magic][u64 length][u32 crc]` before an atomic file's payload.
const ATOMIC_HEADER: usize = 20;
/// `[u32 length][u32 crc]` before a WAL record's payload.
const RECORD_HEADER: usize = 8;
/// Segments `wal_records` may spread records over.
const MAX_SEGMENTS: u64 = 4;

fn segment_path(dir: &Path, seq: u64) -> std::path::PathBuf {
    dir.join(WAL).join(format!("{seq:012}.log"))
}

/// Open `dir`; when it opens, it must open again to the same state.
fn open_twice(dir: &Path) {
    match Storage::open(dir, StorageOptions::default()) {
        Ok((storage, first)) => {
            drop(storage);
            let (_, second) = Storage::open(dir, StorageOptions::default())
                .unwrap_or_else(|e| panic!("opened once, then refused: {e}"));
            assert_eq!(first, second, "a second open recovered a different state");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fn run_wal_segment(data: &[u8]) {
    let dir = fresh_dir();
    fs::create_dir(dir.join(WAL)).expect("create wal dir");
    fs::write(segment_path(&dir, 1), data).expect("write segment");
    open_twice(&dir);
}

/// The magics of the `hardstate` and `snapshot` files, read from files a real
/// `Storage` wrote (so the target follows the format if it changes).
struct Magics {
    hardstate: [u8; 8],
    snapshot: [u8; 8],
}

fn magics() -> &'static Magics {
    static MAGICS: OnceLock<Magics> = OnceLock::new();
    MAGICS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mut s, _) = Storage::open(dir.path(), StorageOptions::default()).expect("open");
        s.persist(Some(&hard_state(1, 0)), &[], Some(&snapshot(2, 1)))
            .expect("persist");
        drop(s);
        let head = |name: &str| -> [u8; 8] {
            let bytes = fs::read(dir.path().join(name)).expect("read back");
            bytes[..8].try_into().expect("8 bytes")
        };
        Magics {
            hardstate: head(HARDSTATE),
            snapshot: head(SNAPSHOT),
        }
    })
}

fn wrap_atomic(magic: &[u8; 8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ATOMIC_HEADER + payload.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn frame_record(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

fn magic_of(name: &str) -> &'static [u8; 8] {
    if name == HARDSTATE {
        &magics().hardstate
    } else {
        &magics().snapshot
    }
}

fn run_atomic_file(name: &str, data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let dir = fresh_dir();
    let bytes = if mode & 1 == 1 {
        wrap_atomic(magic_of(name), rest)
    } else {
        rest.to_vec()
    };
    fs::write(dir.join(name), bytes).expect("write file");
    open_twice(&dir);
}

/// Reads `[u16 little-endian length][bytes]` chunks; a length past the end
/// takes what is left.
struct Chunks<'a>(&'a [u8]);

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.len() < 2 {
            return None;
        }
        let len = usize::from(u16::from_le_bytes([self.0[0], self.0[1]]));
        let rest = &self.0[2..];
        let (chunk, after) = rest.split_at(len.min(rest.len()));
        self.0 = after;
        Some(chunk)
    }
}

const HAS_SNAPSHOT: u8 = 1;
const HAS_HARDSTATE: u8 = 2;
const TORN_TAIL: u8 = 4;

/// Lay out a `wal_records` input: byte 0 holds flags, then chunks: the
/// snapshot payload (flag 1), the hard-state payload (flag 2), then one WAL
/// record payload per chunk, an empty chunk starting the next segment.
/// Flag 4 appends the first half of the last record again (a torn tail).
fn run_wal_records(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let dir = fresh_dir();
    fs::create_dir(dir.join(WAL)).expect("create wal dir");
    let mut chunks = Chunks(rest);
    if flags & HAS_SNAPSHOT != 0 {
        let payload = chunks.next().unwrap_or_default();
        fs::write(dir.join(SNAPSHOT), wrap_atomic(magic_of(SNAPSHOT), payload))
            .expect("write snapshot");
    }
    if flags & HAS_HARDSTATE != 0 {
        let payload = chunks.next().unwrap_or_default();
        fs::write(
            dir.join(HARDSTATE),
            wrap_atomic(magic_of(HARDSTATE), payload),
        )
        .expect("write hardstate");
    }
    let mut segments: Vec<Vec<u8>> = vec![Vec::new()];
    let mut last: &[u8] = &[];
    for chunk in chunks {
        if chunk.is_empty() {
            if (segments.len() as u64) < MAX_SEGMENTS {
                segments.push(Vec::new());
            }
            continue;
        }
        frame_record(chunk, segments.last_mut().expect("one segment"));
        last = chunk;
    }
    if flags & TORN_TAIL != 0 && !last.is_empty() {
        let mut whole = Vec::new();
        frame_record(last, &mut whole);
        whole.truncate(whole.len() / 2);
        segments.last_mut().expect("one segment").extend(whole);
    }
    for (i, bytes) in segments.iter().enumerate() {
        fs::write(segment_path(&dir, i as u64 + 1), bytes).expect("write segment");
    }
    open_twice(&dir);
}

fn hard_state(term: u64, commit: u64) -> HardState {
    HardState {
        term,
        vote: Some(1),
        commit,
    }
}

fn snapshot(index: u64, term: u64) -> Snapshot {
    Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            voters: vec![1, 2, 3],
            learners: Vec::new(),
        },
        data: format!("state at {index}").into_bytes(),
    }
}

fn entries(range: std::ops::RangeInclusive<u64>, term: u64) -> Vec<Entry> {
    range
        .map(|index| Entry {
            term,
            index,
            kind: if index % 4 == 0 {
                EntryKind::Noop
            } else {
                EntryKind::Normal
            },
            data: if index % 4 == 0 {
                Vec::new()
            } else {
                format!("cmd {index}").into_bytes()
            },
        })
        .collect()
}

/// Real data directories written by `Storage`, covering what replay meets:
/// several segments, commits, a compacting snapshot, a resetting snapshot
/// and an overwritten suffix.
fn scenarios() -> Vec<tempfile::TempDir> {
    type Step = (Option<HardState>, Vec<Entry>, Option<Snapshot>);
    let plans: Vec<(u64, Vec<Step>)> = vec![
        (
            1 << 20,
            vec![
                (Some(hard_state(1, 0)), entries(1..=3, 1), None),
                (Some(hard_state(1, 2)), entries(4..=5, 1), None),
                (Some(hard_state(1, 5)), vec![], None),
            ],
        ),
        (
            200,
            vec![
                (Some(hard_state(1, 0)), entries(1..=6, 1), None),
                (Some(hard_state(1, 6)), entries(7..=12, 1), None),
                (None, vec![], Some(snapshot(8, 1))),
                (Some(hard_state(2, 12)), entries(13..=14, 2), None),
            ],
        ),
        (
            1 << 20,
            vec![
                (Some(hard_state(1, 0)), entries(1..=5, 1), None),
                (Some(hard_state(2, 0)), vec![], Some(snapshot(8, 2))),
                (Some(hard_state(2, 9)), entries(9..=10, 2), None),
            ],
        ),
        (
            1 << 20,
            vec![
                (Some(hard_state(1, 2)), entries(1..=5, 1), None),
                (Some(hard_state(2, 2)), entries(3..=4, 2), None),
            ],
        ),
    ];
    plans
        .into_iter()
        .map(|(segment_size, steps)| {
            let dir = tempfile::tempdir().expect("temp dir");
            let (mut s, _) = Storage::open(dir.path(), StorageOptions { segment_size })
                .expect("open a fresh directory");
            for (hs, ents, snap) in steps {
                s.persist(hs.as_ref(), &ents, snap.as_ref())
                    .expect("persist a seed step");
            }
            dir
        })
        .collect()
}

fn segments_of(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = fs::read_dir(dir.join(WAL))
        .expect("list wal")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    paths.iter().map(|p| fs::read(p).expect("read")).collect()
}

fn wal_segment_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = scenarios()
        .iter()
        .flat_map(|d| segments_of(d.path()))
        .filter(|s| !s.is_empty())
        .collect();
    seeds.push(Vec::new());
    seeds
}

fn payload_of(file: &Path) -> Option<Vec<u8>> {
    let bytes = fs::read(file).ok()?;
    Some(bytes.get(ATOMIC_HEADER..)?.to_vec())
}

fn push_chunk(out: &mut Vec<u8>, chunk: &[u8]) {
    let len = u16::try_from(chunk.len()).expect("seed chunks are small");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(chunk);
}

fn wal_records_seeds() -> Vec<Vec<u8>> {
    scenarios()
        .iter()
        .map(|dir| {
            let dir = dir.path();
            let snapshot = payload_of(&dir.join(SNAPSHOT));
            let hardstate = payload_of(&dir.join(HARDSTATE));
            let mut flags = 0;
            let mut out = vec![0];
            if let Some(p) = &snapshot {
                flags |= HAS_SNAPSHOT;
                push_chunk(&mut out, p);
            }
            if let Some(p) = &hardstate {
                flags |= HAS_HARDSTATE;
                push_chunk(&mut out, p);
            }
            out[0] = flags;
            for (i, segment) in segments_of(dir).iter().enumerate() {
                if i > 0 {
                    push_chunk(&mut out, &[]);
                }
                let mut rest = &segment[..];
                while rest.len() >= RECORD_HEADER {
                    let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
                    let end = (RECORD_HEADER + len).min(rest.len());
                    push_chunk(&mut out, &rest[RECORD_HEADER..end]);
                    rest = &rest[end..];
                }
            }
            out
        })
        .collect()
}

fn atomic_file_seeds(name: &str) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for dir in scenarios() {
        let path = dir.path().join(name);
        if let Ok(raw) = fs::read(&path) {
            let mut with_mode = vec![0];
            with_mode.extend_from_slice(&raw);
            seeds.push(with_mode);
            let mut payload = vec![1];
            payload.extend_from_slice(&raw[ATOMIC_HEADER.min(raw.len())..]);
            seeds.push(payload);
        }
    }
    seeds
}
