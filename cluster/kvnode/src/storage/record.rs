//! WAL records and their framing.
//!
//! On disk a record is `[u32 length][u32 crc32 of payload][payload]`, both
//! integers little-endian, the payload a bincode-encoded [`WalRecord`]. A
//! segment file is a plain concatenation of records. [`scan`] walks a segment
//! and stops at the first record that is torn or damaged, telling whether any
//! valid record follows it (the difference between a torn tail, which is
//! truncated, and corruption before the tail, which refuses to open).

use faultline_raft::{Entry, Index, Term};
use serde::{Deserialize, Serialize};

use super::codec;
use super::error::{Result, StorageError};

/// Bytes of the `[length][crc]` header.
pub const HEADER_LEN: usize = 8;

/// One logical WAL record.
///
/// Replay applies records in order to an in-memory log:
/// - `Entries`: discard every entry at or after `entries[0].index`, then
///   append. This is how a conflicting suffix is overwritten: the new entries
///   are simply written after the old ones and win on replay, exactly as the
///   core's log did.
/// - `CompactTo`: a snapshot at `(index, term)` whose entry the log held with
///   that term: entries up to `index` are discarded, later ones kept.
/// - `ResetTo`: a snapshot at `(index, term)` the log did not match (Raft
///   Figure 13): the whole log is discarded.
/// - `Commit`: the commit index is at least this value (written after the
///   entries it covers, so a torn write can never claim more than is on disk).
///
/// The choice between `CompactTo` and `ResetTo` is made when writing, so a
/// record never depends on older records that compaction may have deleted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum WalRecord {
    Entries(Vec<Entry>),
    CompactTo { index: Index, term: Term },
    ResetTo { index: Index, term: Term },
    Commit(Index),
}

/// The borrowed twin of [`WalRecord`], used for writing without copying
/// entries. Its serde layout is identical (same variants, same order).
#[derive(Debug, Clone, Copy, Serialize)]
pub enum WalRecordRef<'a> {
    Entries(&'a [Entry]),
    CompactTo { index: Index, term: Term },
    ResetTo { index: Index, term: Term },
    Commit(Index),
}

/// Append one framed record to `out`.
pub fn append_framed(record: &WalRecordRef<'_>, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER_LEN]);
    codec::encode_into("WAL record", record, out)?;
    let payload_len = out.len() - start - HEADER_LEN;
    let len = u32::try_from(payload_len).map_err(|_| StorageError::RecordTooLarge(payload_len))?;
    let crc = crc32fast::hash(&out[start + HEADER_LEN..]);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadRecord {
    /// Fewer than 8 bytes remain for the header.
    TruncatedHeader { have: usize },
    /// The header announces more bytes than the file holds.
    TruncatedPayload { len: u32, have: usize },
    /// A zero length (no encoded record is empty; typical of zero-filled tails).
    ZeroLength,
    /// The payload does not match its checksum.
    ChecksumMismatch { stored: u32, computed: u32 },
    /// The checksum matches but the payload is not a record.
    Undecodable(String),
}

impl std::fmt::Display for BadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadRecord::TruncatedHeader { have } => {
                write!(f, "truncated record header ({have} of {HEADER_LEN} bytes)")
            }
            BadRecord::TruncatedPayload { len, have } => write!(
                f,
                "record announces {len} payload bytes but only {have} remain in the file"
            ),
            BadRecord::ZeroLength => write!(f, "record with zero length"),
            BadRecord::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            BadRecord::Undecodable(why) => write!(f, "checksum matches but payload {why}"),
        }
    }
}

/// A record read back with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedRecord {
    pub offset: u64,
    pub len: u64,
    pub record: WalRecord,
}

/// Where a scan stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanStop {
    /// Byte offset of the first bad record.
    pub offset: u64,
    pub reason: BadRecord,
    /// Offset of a valid record found after the bad one, if any.
    pub valid_record_after: Option<u64>,
}

/// The result of scanning one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub records: Vec<ScannedRecord>,
    /// `None` when every byte belonged to a valid record.
    pub stop: Option<ScanStop>,
}

/// Read the record at `offset`, or say why it cannot be read.
fn read_at(bytes: &[u8], offset: usize) -> std::result::Result<(WalRecord, usize), BadRecord> {
    let rest = &bytes[offset..];
    if rest.len() < HEADER_LEN {
        return Err(BadRecord::TruncatedHeader { have: rest.len() });
    }
    let len = u32::from_le_bytes(rest[0..4].try_into().expect("4 bytes"));
    let stored = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
    if len == 0 {
        return Err(BadRecord::ZeroLength);
    }
    let have = rest.len() - HEADER_LEN;
    if len as usize > have {
        return Err(BadRecord::TruncatedPayload { len, have });
    }
    let payload = &rest[HEADER_LEN..HEADER_LEN + len as usize];
    let computed = crc32fast::hash(payload);
    if computed != stored {
        return Err(BadRecord::ChecksumMismatch { stored, computed });
    }
    let record = codec::decode::<WalRecord>(payload).map_err(BadRecord::Undecodable)?;
    Ok((record, HEADER_LEN + len as usize))
}

/// The first offset after `bad` at which a complete, valid record starts.
///
/// A torn write leaves only a prefix of what was written (or zeros); a valid
/// record after a bad one means the damage is not a torn tail. Candidates with
/// an impossible length are rejected after reading 8 bytes, so the search is
/// cheap on the tails a crash leaves.
fn find_valid_after(bytes: &[u8], bad: usize) -> Option<usize> {
    (bad + 1..bytes.len().saturating_sub(HEADER_LEN)).find(|&at| read_at(bytes, at).is_ok())
}

/// Scan a whole segment.
pub fn scan(bytes: &[u8]) -> Scan {
    let mut records = Vec::new();
    let mut offset = 0usize;
    while offset < bytes.len() {
        match read_at(bytes, offset) {
            Ok((record, len)) => {
                records.push(ScannedRecord {
                    offset: offset as u64,
                    len: len as u64,
                    record,
                });
                offset += len;
            }
            Err(reason) => {
                let valid_record_after = find_valid_after(bytes, offset).map(|o| o as u64);
                return Scan {
                    records,
                    stop: Some(ScanStop {
                        offset: offset as u64,
                        reason,
                        valid_record_after,
                    }),
                };
            }
        }
    }
    Scan {
        records,
        stop: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_raft::EntryKind;

    fn entry(index: Index, term: Term) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: vec![index as u8; 10],
        }
    }

    #[test]
    fn borrowed_and_owned_layouts_agree() {
        let entries = vec![entry(1, 1), entry(2, 1)];
        let mut buf = Vec::new();
        append_framed(&WalRecordRef::Entries(&entries), &mut buf).unwrap();
        append_framed(&WalRecordRef::CompactTo { index: 2, term: 1 }, &mut buf).unwrap();
        append_framed(&WalRecordRef::ResetTo { index: 9, term: 3 }, &mut buf).unwrap();
        append_framed(&WalRecordRef::Commit(2), &mut buf).unwrap();
        let scan = scan(&buf);
        assert_eq!(scan.stop, None);
        let got: Vec<WalRecord> = scan.records.into_iter().map(|r| r.record).collect();
        assert_eq!(
            got,
            vec![
                WalRecord::Entries(entries),
                WalRecord::CompactTo { index: 2, term: 1 },
                WalRecord::ResetTo { index: 9, term: 3 },
                WalRecord::Commit(2),
            ]
        );
    }

    #[test]
    fn membership_change_entries_round_trip() {
        use faultline_raft::ConfChange;
        let entries: Vec<Entry> = [
            ConfChange::AddVoter(4),
            ConfChange::AddLearner(5),
            ConfChange::Remove(1),
        ]
        .into_iter()
        .enumerate()
        .map(|(k, cc)| Entry {
            term: 2,
            index: k as Index + 1,
            kind: EntryKind::ConfChange(cc),
            data: Vec::new(),
        })
        .collect();
        let mut buf = Vec::new();
        append_framed(&WalRecordRef::Entries(&entries), &mut buf).unwrap();
        let scan = scan(&buf);
        assert_eq!(scan.stop, None);
        let got: Vec<WalRecord> = scan.records.into_iter().map(|r| r.record).collect();
        assert_eq!(got, vec![WalRecord::Entries(entries)]);
    }

    #[test]
    fn torn_tail_has_no_valid_record_after() {
        let mut buf = Vec::new();
        append_framed(&WalRecordRef::Commit(1), &mut buf).unwrap();
        let first = buf.len();
        append_framed(&WalRecordRef::Entries(&[entry(1, 1)]), &mut buf).unwrap();
        for cut in first + 1..buf.len() {
            let s = scan(&buf[..cut]);
            assert_eq!(s.records.len(), 1, "cut at {cut}");
            let stop = s.stop.expect("stopped");
            assert_eq!(stop.offset, first as u64);
            assert_eq!(stop.valid_record_after, None, "cut at {cut}");
        }
    }

    #[test]
    fn damage_before_valid_data_is_detected() {
        let mut buf = Vec::new();
        append_framed(&WalRecordRef::Entries(&[entry(1, 1)]), &mut buf).unwrap();
        let second = buf.len();
        append_framed(&WalRecordRef::Entries(&[entry(2, 1)]), &mut buf).unwrap();
        buf[HEADER_LEN + 3] ^= 0x40;
        let s = scan(&buf);
        assert!(s.records.is_empty());
        let stop = s.stop.unwrap();
        assert!(matches!(stop.reason, BadRecord::ChecksumMismatch { .. }));
        assert_eq!(stop.valid_record_after, Some(second as u64));
    }
}
