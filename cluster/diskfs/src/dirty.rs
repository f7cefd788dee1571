//! `Dirty`: the unsynced data of one file, kept in memory. The backing file
//! holds what is durable; a `Dirty` holds the bytes written since the last
//! fsync (as non-overlapping extents), the current size, the point past
//! which truncation hid the backing bytes, and the last write on its own so
//! that a power loss can tear it. Pure: the caller hands in the backing
//! bytes to read and the backing file to flush to.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The newest write, kept apart from the extents until the next write,
/// truncate or flush folds it in.
#[derive(Debug, Clone)]
struct LastWrite {
    offset: u64,
    data: Vec<u8>,
    /// The file's size before this write.
    size_before: u64,
}

/// The unsynced state of one file.
#[derive(Debug, Clone)]
pub struct Dirty {
    /// The size the file has now (as readers see it).
    size: u64,
    /// Backing bytes at offsets `>= floor` are hidden (read as zeros): a
    /// truncate cut them off. Invariant: `floor <= size`.
    floor: u64,
    /// Written bytes not yet durable, non-overlapping, keyed by offset.
    extents: BTreeMap<u64, Vec<u8>>,
    last: Option<LastWrite>,
}

impl Dirty {
    /// No unsynced data over a backing file of `backing_len` bytes.
    pub fn new(backing_len: u64) -> Dirty {
        Dirty {
            size: backing_len,
            floor: backing_len,
            extents: BTreeMap::new(),
            last: None,
        }
    }

    /// The file's current size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Unsynced bytes held (written bytes, not counting truncation).
    pub fn unsynced_bytes(&self) -> u64 {
        let ext: usize = self.extents.values().map(Vec::len).sum();
        let last = self.last.as_ref().map_or(0, |l| l.data.len());
        (ext + last) as u64
    }

    /// Whether a write is held that a tear could cut.
    pub fn last_write_len(&self) -> Option<u64> {
        self.last.as_ref().map(|l| l.data.len() as u64)
    }

    /// Record a write of `data` at `offset`.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        self.fold_last();
        let size_before = self.size;
        self.size = self.size.max(offset + data.len() as u64);
        self.last = Some(LastWrite {
            offset,
            data: data.to_vec(),
            size_before,
        });
    }

    /// Set the size to `len` (cutting or extending with zeros).
    pub fn truncate(&mut self, len: u64) {
        self.fold_last();
        if len < self.size {
            let keys: Vec<u64> = self.extents.range(..).map(|(&k, _)| k).collect();
            for k in keys {
                if k >= len {
                    self.extents.remove(&k);
                } else if let Some(v) = self.extents.get_mut(&k)
                    && k + v.len() as u64 > len
                {
                    v.truncate((len - k) as usize);
                }
            }
            self.floor = self.floor.min(len);
        }
        self.size = len;
    }

    /// Up to `len` bytes at `offset` as readers see them; `backing(off, n)`
    /// returns the durable bytes there (fewer at the end of the file).
    pub fn read(
        &self,
        offset: u64,
        len: u64,
        backing: impl FnOnce(u64, usize) -> io::Result<Vec<u8>>,
    ) -> io::Result<Vec<u8>> {
        if offset >= self.size {
            return Ok(Vec::new());
        }
        let end = self.size.min(offset.saturating_add(len));
        let mut out = vec![0u8; (end - offset) as usize];
        if offset < self.floor {
            let n = (end.min(self.floor) - offset) as usize;
            let got = backing(offset, n)?;
            let k = got.len().min(n);
            out[..k].copy_from_slice(&got[..k]);
        }
        for (&k, v) in self.extents.range(..end) {
            overlay(&mut out, offset, k, v);
        }
        if let Some(l) = &self.last {
            overlay(&mut out, offset, l.offset, &l.data);
        }
        Ok(out)
    }

    /// Make everything durable in `file` (the backing file) and fsync it.
    pub fn flush(mut self, file: &File) -> io::Result<()> {
        self.fold_last();
        self.flush_folded(file)
    }

    /// A power loss that tears the last write: every earlier unsynced write
    /// of this file reaches the disk, and of the last one only its first
    /// `keep` bytes. Returns how many bytes of the last write were kept.
    pub fn flush_torn(mut self, file: &File, keep: u64) -> io::Result<u64> {
        let kept = match self.last.take() {
            Some(mut l) => {
                let keep = keep.min(l.data.len() as u64);
                l.data.truncate(keep as usize);
                self.size = l.size_before.max(l.offset + keep);
                self.floor = self.floor.min(self.size);
                self.insert(l.offset, &l.data);
                keep
            }
            None => 0,
        };
        self.flush_folded(file)?;
        Ok(kept)
    }

    fn flush_folded(&self, file: &File) -> io::Result<()> {
        let backing_len = file.metadata()?.len();
        if self.floor < backing_len {
            file.set_len(self.floor)?;
        }
        for (&k, v) in &self.extents {
            file.write_all_at(v, k)?;
        }
        file.set_len(self.size)?;
        file.sync_all()
    }

    fn fold_last(&mut self) {
        if let Some(l) = self.last.take() {
            self.insert(l.offset, &l.data);
        }
    }

    /// Put `data` at `offset` into the extents, merging what it overlaps or
    /// touches.
    fn insert(&mut self, offset: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = offset + data.len() as u64;
        let touching: Vec<u64> = self
            .extents
            .range(..=end)
            .filter(|(k, v)| **k + v.len() as u64 >= offset)
            .map(|(&k, _)| k)
            .collect();
        let start = touching.first().map_or(offset, |&k| k.min(offset));
        let mut stop = end;
        for k in &touching {
            stop = stop.max(k + self.extents[k].len() as u64);
        }
        let mut merged = vec![0u8; (stop - start) as usize];
        for k in touching {
            if let Some(v) = self.extents.remove(&k) {
                overlay(&mut merged, start, k, &v);
            }
        }
        overlay(&mut merged, start, offset, data);
        self.extents.insert(start, merged);
    }
}

/// Copy the part of `src` (which starts at file offset `at`) that falls in
/// `out` (which starts at file offset `base`).
fn overlay(out: &mut [u8], base: u64, at: u64, src: &[u8]) {
    let out_end = base + out.len() as u64;
    let src_end = at + src.len() as u64;
    let from = base.max(at);
    let to = out_end.min(src_end);
    if from >= to {
        return;
    }
    let o = (from - base) as usize;
    let s = (from - at) as usize;
    let n = (to - from) as usize;
    out[o..o + n].copy_from_slice(&src[s..s + n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_backing(_: u64, _: usize) -> io::Result<Vec<u8>> {
        Ok(Vec::new())
    }

    fn backed(bytes: &[u8]) -> impl FnOnce(u64, usize) -> io::Result<Vec<u8>> + '_ {
        move |off, n| {
            let s = (off as usize).min(bytes.len());
            let e = (s + n).min(bytes.len());
            Ok(bytes[s..e].to_vec())
        }
    }

    #[test]
    fn writes_read_back_merged_over_the_backing_bytes() {
        let base = b"0123456789";
        let mut d = Dirty::new(10);
        d.write(2, b"ab");
        d.write(3, b"XYZ");
        d.write(12, b"!");
        assert_eq!(d.size(), 13);
        let got = d.read(0, 100, backed(base)).unwrap();
        assert_eq!(got, b"01aXYZ6789\0\0!");
        assert_eq!(d.read(5, 2, backed(base)).unwrap(), b"Z6");
        assert_eq!(d.read(13, 5, backed(base)).unwrap(), b"");
    }

    #[test]
    fn extents_merge_when_they_touch_or_overlap() {
        let mut d = Dirty::new(0);
        for (off, b) in [(0u64, b"aa"), (4, b"cc"), (2, b"bb"), (1, b"XX")] {
            d.write(off, b);
        }
        d.fold_last();
        assert_eq!(d.extents.len(), 1, "{:?}", d.extents);
        assert_eq!(d.read(0, 10, no_backing).unwrap(), b"aXXbcc");
        assert_eq!(d.unsynced_bytes(), 6);
    }

    #[test]
    fn truncate_hides_backing_bytes_and_extending_reads_zeros() {
        let base = b"abcdefgh";
        let mut d = Dirty::new(8);
        d.write(6, b"GH");
        d.truncate(3);
        assert_eq!(d.read(0, 10, backed(base)).unwrap(), b"abc");
        d.truncate(6);
        assert_eq!(d.read(0, 10, backed(base)).unwrap(), b"abc\0\0\0");
        d.write(7, b"z");
        assert_eq!(d.read(0, 10, backed(base)).unwrap(), b"abc\0\0\0\0z");
    }

    #[test]
    fn flush_writes_the_view_to_the_backing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abcdefgh").unwrap();
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        let mut d = Dirty::new(8);
        d.truncate(2);
        d.write(4, b"XY");
        let view = d.read(0, 100, backed(b"abcdefgh")).unwrap();
        d.flush(&f).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), view);
        assert_eq!(view, b"ab\0\0XY");
    }

    #[test]
    fn a_torn_flush_keeps_earlier_writes_and_a_prefix_of_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"").unwrap();
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        let mut d = Dirty::new(0);
        d.write(0, b"first-");
        d.write(6, b"second");
        assert_eq!(d.last_write_len(), Some(6));
        let kept = d.flush_torn(&f, 2).unwrap();
        assert_eq!(kept, 2);
        assert_eq!(std::fs::read(&p).unwrap(), b"first-se");
    }

    #[test]
    fn a_torn_overwrite_inside_the_file_keeps_the_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"aaaaaaaa").unwrap();
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        let mut d = Dirty::new(8);
        d.write(2, b"bbbb");
        d.flush_torn(&f, 1).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"aabaaaaa");
    }
}
