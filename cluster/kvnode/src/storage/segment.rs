//! WAL segment files: naming (`wal/000000000001.log`, ...), listing, and the
//! active segment new records are appended to.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::atomic_file::sync_dir;
use super::error::{Result, io_err};

const SUFFIX: &str = ".log";

/// The file name of segment `seq`.
pub fn segment_name(seq: u64) -> String {
    format!("{seq:012}{SUFFIX}")
}

/// The sequence number of a segment file name, if it is one.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SUFFIX)?;
    if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Segment files in `wal_dir`, sorted by sequence number. Other files are
/// ignored with a warning.
pub fn list_segments(wal_dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(wal_dir).map_err(io_err("list", wal_dir))? {
        let entry = entry.map_err(io_err("list", wal_dir))?;
        let name = entry.file_name();
        match parse_segment_name(&name.to_string_lossy()) {
            Some(seq) => out.push((seq, entry.path())),
            None => {
                tracing::warn!(path = %entry.path().display(), "ignoring a file that is not a WAL segment")
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The segment records are appended to.
#[derive(Debug)]
pub struct ActiveSegment {
    pub seq: u64,
    pub path: PathBuf,
    file: File,
    /// Bytes in the file.
    pub len: u64,
    /// Bytes were written since the last fsync.
    pub unsynced: bool,
}

impl ActiveSegment {
    /// Create segment `seq` (it must not exist) and make its existence durable
    /// (one directory fsync).
    pub fn create(wal_dir: &Path, seq: u64) -> Result<ActiveSegment> {
        let path = wal_dir.join(segment_name(seq));
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(io_err("create", &path))?;
        sync_dir(wal_dir)?;
        Ok(ActiveSegment {
            seq,
            path,
            file,
            len: 0,
            unsynced: false,
        })
    }

    /// Reopen an existing segment for appending; `len` is its verified length.
    pub fn open(path: PathBuf, seq: u64, len: u64) -> Result<ActiveSegment> {
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        Ok(ActiveSegment {
            seq,
            path,
            file,
            len,
            unsynced: false,
        })
    }

    /// Append `bytes` in one write (not yet durable).
    pub fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .map_err(io_err("append to", &self.path))?;
        self.len += bytes.len() as u64;
        self.unsynced = true;
        Ok(())
    }

    /// Make everything appended so far durable (`fdatasync`).
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync_data().map_err(io_err("fsync", &self.path))?;
        self.unsynced = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(segment_name(1), "000000000001.log");
        assert_eq!(parse_segment_name(&segment_name(42)), Some(42));
        assert_eq!(parse_segment_name("000000000001.tmp"), None);
        assert_eq!(parse_segment_name("1.log"), None);
        assert_eq!(parse_segment_name("00000000000x.log"), None);
    }
}
