//! `Overlay`: the file system's state without FUSE. Inode numbers map to
//! paths in the backing tree; namespace changes go to the backing tree at
//! once and into the [`Journal`] until their directories are fsynced; file
//! data stays in memory ([`Dirty`]) until the file is fsynced. So the
//! backing tree plus the journal's undo is always what a disk would hold
//! after a power loss, and [`Overlay::power_loss`] makes it so: it drops the
//! unsynced data (optionally tearing the newest write at a seeded byte) and
//! undoes the unsynced namespace changes.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use faultline_raft::SplitMix64;
use serde::Serialize;

use crate::dirty::Dirty;
use crate::error::{DiskError, Result};
use crate::journal::{Change, Journal};

/// The root directory's inode number (FUSE's).
pub const ROOT_INO: u64 = 1;

/// The kind of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

impl Kind {
    fn of(t: fs::FileType) -> Kind {
        if t.is_dir() {
            Kind::Dir
        } else if t.is_file() {
            Kind::File
        } else if t.is_symlink() {
            Kind::Symlink
        } else {
            Kind::Other
        }
    }
}

/// An inode's attributes as readers see them (size includes unsynced data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub ino: u64,
    pub kind: Kind,
    pub size: u64,
    pub perm: u16,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub atime: SystemTime,
    pub mtime: SystemTime,
    pub ctime: SystemTime,
}

/// What is unsynced now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub unsynced_files: usize,
    pub unsynced_bytes: u64,
    pub pending_changes: usize,
}

/// What a power loss took.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Loss {
    /// Files whose unsynced data was dropped.
    pub files: usize,
    /// Unsynced bytes dropped (a torn write's kept bytes excluded).
    pub bytes: u64,
    /// Namespace changes undone.
    pub changes_undone: usize,
    /// Undo steps that could not be done, each with the reason.
    pub undo_failures: Vec<String>,
    /// The torn write, when one was torn.
    pub torn: Option<Torn>,
}

/// A write cut by a power loss: its file and how many of its bytes stayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Torn {
    pub path: String,
    pub kept: u64,
    pub of: u64,
}

/// The file system's state over one backing folder.
#[derive(Debug)]
pub struct Overlay {
    /// `<backing>/root`: the durable tree (plus unsynced namespace changes).
    root: PathBuf,
    /// `<backing>/trash`: removed files until their removal is durable.
    trash: PathBuf,
    paths: HashMap<u64, PathBuf>,
    inos: HashMap<PathBuf, u64>,
    next_ino: u64,
    next_trash: u64,
    dirty: HashMap<u64, Dirty>,
    /// The inode of the newest write (the one a tear cuts).
    newest_write: Option<u64>,
    journal: Journal,
    /// Namespace changes this old are durable without a directory fsync
    /// (`None`: only a directory fsync makes them durable).
    commit_interval: Option<std::time::Duration>,
    rng: SplitMix64,
}

impl Overlay {
    /// An overlay over `backing` (its `root` and `trash` folders are made
    /// when missing; a trash left by an earlier process is emptied: those
    /// removals become durable). `seed` chooses where tears cut.
    pub fn new(backing: &Path, seed: u64) -> Result<Overlay> {
        let root = backing.join("root");
        let trash = backing.join("trash");
        fs::create_dir_all(&root).map_err(DiskError::io("create", &root))?;
        if trash.exists() {
            fs::remove_dir_all(&trash).map_err(DiskError::io("empty", &trash))?;
        }
        fs::create_dir_all(&trash).map_err(DiskError::io("create", &trash))?;
        let mut o = Overlay {
            root,
            trash,
            paths: HashMap::new(),
            inos: HashMap::new(),
            next_ino: ROOT_INO + 1,
            next_trash: 0,
            dirty: HashMap::new(),
            newest_write: None,
            journal: Journal::default(),
            commit_interval: None,
            rng: SplitMix64::new(seed),
        };
        o.reset_inodes();
        Ok(o)
    }

    /// Let namespace changes become durable `interval` after they were
    /// made, as a journaling file system's periodic commit does (ext4:
    /// 5 s), besides by a directory fsync. File data still needs an fsync.
    pub fn set_commit_interval(&mut self, interval: Option<std::time::Duration>) {
        self.commit_interval = interval;
    }

    /// The backing tree's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn reset_inodes(&mut self) {
        self.paths.clear();
        self.inos.clear();
        self.paths.insert(ROOT_INO, self.root.clone());
        self.inos.insert(self.root.clone(), ROOT_INO);
    }

    fn path(&self, ino: u64) -> Result<&PathBuf> {
        self.paths.get(&ino).ok_or(DiskError::NoInode(ino))
    }

    fn ino_for(&mut self, path: &Path) -> u64 {
        if let Some(&ino) = self.inos.get(path) {
            return ino;
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.paths.insert(ino, path.to_path_buf());
        self.inos.insert(path.to_path_buf(), ino);
        ino
    }

    fn rel(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.root).unwrap_or(path).to_path_buf()
    }

    fn child(&self, parent: u64, name: &OsStr) -> Result<PathBuf> {
        let dir = self.path(parent)?;
        Ok(dir.join(name))
    }

    fn attr_of(&self, ino: u64, path: &Path) -> Result<Attr> {
        let m = fs::symlink_metadata(path).map_err(DiskError::io("stat", path))?;
        let size = self.dirty.get(&ino).map_or(m.len(), Dirty::size);
        Ok(Attr {
            ino,
            kind: Kind::of(m.file_type()),
            size,
            perm: (m.mode() & 0o7777) as u16,
            nlink: m.nlink() as u32,
            uid: m.uid(),
            gid: m.gid(),
            atime: m.accessed().unwrap_or(SystemTime::UNIX_EPOCH),
            mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            ctime: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(m.ctime().max(0) as u64),
        })
    }

    /// The entry `name` in directory `parent`.
    pub fn lookup(&mut self, parent: u64, name: &OsStr) -> Result<Attr> {
        let path = self.child(parent, name)?;
        fs::symlink_metadata(&path).map_err(DiskError::io("lookup", &path))?;
        let ino = self.ino_for(&path);
        self.attr_of(ino, &path)
    }

    pub fn getattr(&self, ino: u64) -> Result<Attr> {
        let path = self.path(ino)?;
        self.attr_of(ino, path)
    }

    /// Create an empty file (durable once `parent` is fsynced).
    pub fn create(&mut self, parent: u64, name: &OsStr, mode: u32) -> Result<Attr> {
        let path = self.child(parent, name)?;
        let existed = path.exists();
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(mode & 0o7777)
            .open(&path)
            .map_err(DiskError::io("create", &path))?;
        if !existed {
            let change = Change::Created {
                path: self.rel(&path),
                is_dir: false,
            };
            self.journal.record(change, [parent]);
        }
        let ino = self.ino_for(&path);
        self.attr_of(ino, &path)
    }

    /// Create a directory (durable once `parent` is fsynced).
    pub fn mkdir(&mut self, parent: u64, name: &OsStr, mode: u32) -> Result<Attr> {
        let path = self.child(parent, name)?;
        fs::DirBuilder::new()
            .mode(mode & 0o7777)
            .create(&path)
            .map_err(DiskError::io("mkdir", &path))?;
        let change = Change::Created {
            path: self.rel(&path),
            is_dir: true,
        };
        self.journal.record(change, [parent]);
        let ino = self.ino_for(&path);
        self.attr_of(ino, &path)
    }

    /// Move `path` (inode `ino` if known) to the trash and journal it.
    fn move_to_trash(&mut self, parent: u64, path: &Path) -> Result<()> {
        let trash = self.trash.join(self.next_trash.to_string());
        self.next_trash += 1;
        fs::rename(path, &trash).map_err(DiskError::io("move to trash", path))?;
        if let Some(ino) = self.inos.remove(path) {
            self.paths.insert(ino, trash.clone());
        }
        let change = Change::Removed {
            path: self.rel(path),
            trash,
        };
        self.journal.record(change, [parent]);
        Ok(())
    }

    /// Remove a file (durable once `parent` is fsynced).
    pub fn unlink(&mut self, parent: u64, name: &OsStr) -> Result<()> {
        let path = self.child(parent, name)?;
        let m = fs::symlink_metadata(&path).map_err(DiskError::io("unlink", &path))?;
        if m.is_dir() {
            return Err(DiskError::Io {
                op: "unlink",
                path,
                source: std::io::Error::from_raw_os_error(nix::libc::EISDIR),
            });
        }
        self.move_to_trash(parent, &path)
    }

    /// Remove an empty directory (durable once `parent` is fsynced).
    pub fn rmdir(&mut self, parent: u64, name: &OsStr) -> Result<()> {
        let path = self.child(parent, name)?;
        let mut entries = fs::read_dir(&path).map_err(DiskError::io("rmdir", &path))?;
        if entries.next().is_some() {
            return Err(DiskError::Io {
                op: "rmdir",
                path,
                source: std::io::Error::from_raw_os_error(nix::libc::ENOTEMPTY),
            });
        }
        self.move_to_trash(parent, &path)
    }

    /// Rename, replacing the target (durable once both directories are
    /// fsynced; a replaced target comes back on a power loss until then).
    pub fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        new_parent: u64,
        new_name: &OsStr,
    ) -> Result<()> {
        let from = self.child(parent, name)?;
        let to = self.child(new_parent, new_name)?;
        fs::symlink_metadata(&from).map_err(DiskError::io("rename", &from))?;
        if from == to {
            return Ok(());
        }
        if fs::symlink_metadata(&to).is_ok() {
            self.move_to_trash(new_parent, &to)?;
        }
        fs::rename(&from, &to).map_err(DiskError::io("rename", &from))?;
        // Every inode at or under `from` moves.
        let moved: Vec<(u64, PathBuf)> = self
            .paths
            .iter()
            .filter(|(_, p)| p.starts_with(&from))
            .map(|(&i, p)| (i, p.clone()))
            .collect();
        for (ino, old) in moved {
            let new = match old.strip_prefix(&from) {
                Ok(rest) if rest.as_os_str().is_empty() => to.clone(),
                Ok(rest) => to.join(rest),
                Err(_) => continue,
            };
            self.inos.remove(&old);
            self.inos.insert(new.clone(), ino);
            self.paths.insert(ino, new);
        }
        let change = Change::Renamed {
            from: self.rel(&from),
            to: self.rel(&to),
        };
        self.journal.record(change, [parent, new_parent]);
        Ok(())
    }

    /// Up to `size` bytes at `offset`, unsynced writes included.
    pub fn read(&self, ino: u64, offset: u64, size: u32) -> Result<Vec<u8>> {
        let path = self.path(ino)?;
        let backing = |off: u64, n: usize| -> std::io::Result<Vec<u8>> {
            let f = File::open(path)?;
            read_at(&f, off, n)
        };
        match self.dirty.get(&ino) {
            Some(d) => d
                .read(offset, size as u64, backing)
                .map_err(DiskError::io("read", path)),
            None => backing(offset, size as usize).map_err(DiskError::io("read", path)),
        }
    }

    fn dirty_mut(&mut self, ino: u64) -> Result<&mut Dirty> {
        if !self.dirty.contains_key(&ino) {
            let path = self.path(ino)?;
            let len = fs::metadata(path)
                .map_err(DiskError::io("stat", path))?
                .len();
            self.dirty.insert(ino, Dirty::new(len));
        }
        Ok(self.dirty.get_mut(&ino).expect("inserted above"))
    }

    /// Write `data` at `offset`; held in memory until `fsync`.
    pub fn write(&mut self, ino: u64, offset: u64, data: &[u8]) -> Result<usize> {
        self.dirty_mut(ino)?.write(offset, data);
        self.newest_write = Some(ino);
        Ok(data.len())
    }

    /// Truncate or extend to `len`; held in memory until `fsync`.
    pub fn set_size(&mut self, ino: u64, len: u64) -> Result<()> {
        self.dirty_mut(ino)?.truncate(len);
        if self.newest_write == Some(ino) {
            self.newest_write = None;
        }
        Ok(())
    }

    /// Change permission bits (passed through at once).
    pub fn set_mode(&mut self, ino: u64, mode: u32) -> Result<()> {
        let path = self.path(ino)?;
        fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
            .map_err(DiskError::io("chmod", path))
    }

    /// fsync / fdatasync of a file: its unsynced data becomes durable.
    pub fn fsync(&mut self, ino: u64) -> Result<()> {
        let Some(d) = self.dirty.remove(&ino) else {
            return Ok(());
        };
        if self.newest_write == Some(ino) {
            self.newest_write = None;
        }
        let path = self.path(ino)?.clone();
        match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => d.flush(&f).map_err(DiskError::io("fsync", &path)),
            // Removed and the removal durable: nothing left to sync to.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(DiskError::io("open", &path)(e)),
        }
    }

    /// fsync of a directory: namespace changes waiting for it commit.
    pub fn fsync_dir(&mut self, ino: u64) -> Result<()> {
        let path = self.path(ino)?.clone();
        if !path.is_dir() {
            return Err(DiskError::NotDir(path));
        }
        self.journal
            .sync_dir(ino)
            .map_err(DiskError::io("commit", &self.trash))?;
        Ok(())
    }

    /// The entries of directory `ino` (without `.` and `..`).
    pub fn readdir(&mut self, ino: u64) -> Result<Vec<(u64, Kind, OsString)>> {
        let dir = self.path(ino)?.clone();
        let mut out = Vec::new();
        for e in fs::read_dir(&dir).map_err(DiskError::io("readdir", &dir))? {
            let e = e.map_err(DiskError::io("readdir", &dir))?;
            let kind = e.file_type().map_or(Kind::Other, Kind::of);
            let child = self.ino_for(&e.path());
            out.push((child, kind, e.file_name()));
        }
        out.sort_by(|a, b| a.2.cmp(&b.2));
        Ok(out)
    }

    /// The inode of `ino`'s parent directory (the root's is the root).
    pub fn parent(&mut self, ino: u64) -> Result<u64> {
        let path = self.path(ino)?.clone();
        if ino == ROOT_INO {
            return Ok(ROOT_INO);
        }
        match path.parent() {
            Some(p) if p.starts_with(&self.root) => Ok(self.ino_for(p)),
            _ => Ok(ROOT_INO),
        }
    }

    /// `sync(1)`: every unsynced write and namespace change becomes
    /// durable. Returns what had been unsynced.
    pub fn sync_all(&mut self) -> Result<Stats> {
        let before = self.stats();
        let dirty: Vec<u64> = self.dirty.keys().copied().collect();
        for ino in dirty {
            self.fsync(ino)?;
        }
        self.journal
            .commit_older_than(std::time::Instant::now(), std::time::Duration::ZERO)
            .map_err(DiskError::io("commit", &self.trash))?;
        Ok(before)
    }

    /// What is unsynced now.
    pub fn stats(&self) -> Stats {
        Stats {
            unsynced_files: self.dirty.len(),
            unsynced_bytes: self.dirty.values().map(Dirty::unsynced_bytes).sum(),
            pending_changes: self.journal.len(),
        }
    }

    /// Power loss: drop every unsynced write (with `tear`, the newest write
    /// is cut at a seeded byte and what precedes it in that file stays),
    /// undo every unsynced namespace change, and forget all inodes but the
    /// root (the kernel's old inode numbers become stale).
    pub fn power_loss(&mut self, tear: bool) -> Result<Loss> {
        self.power_loss_at(tear, std::time::Instant::now())
    }

    /// [`Overlay::power_loss`] at time `now` (what the commit interval is
    /// measured against).
    pub fn power_loss_at(&mut self, tear: bool, now: std::time::Instant) -> Result<Loss> {
        if let Some(interval) = self.commit_interval {
            self.journal
                .commit_older_than(now, interval)
                .map_err(DiskError::io("commit", &self.trash))?;
        }
        let mut loss = Loss::default();
        let torn_ino = self.newest_write.take().filter(|_| tear);
        for (ino, d) in std::mem::take(&mut self.dirty) {
            let of = d.last_write_len();
            if Some(ino) == torn_ino
                && let (Some(of), Some(path)) = (of, self.paths.get(&ino).cloned())
                && of > 0
            {
                let keep = self.rng.below(of);
                let f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .map_err(DiskError::io("open", &path))?;
                let kept = d
                    .flush_torn(&f, keep)
                    .map_err(DiskError::io("tear", &path))?;
                loss.bytes += of - kept;
                loss.files += 1;
                loss.torn = Some(Torn {
                    path: self.rel(&path).display().to_string(),
                    kept,
                    of,
                });
                continue;
            }
            loss.files += 1;
            loss.bytes += d.unsynced_bytes();
        }
        let undone = self.journal.undo_all(&self.root);
        loss.changes_undone = undone.changes;
        loss.undo_failures = undone.failures;
        for e in fs::read_dir(&self.trash)
            .map_err(DiskError::io("list", &self.trash))?
            .flatten()
        {
            let p = e.path();
            let _ = fs::remove_dir_all(&p).or_else(|_| fs::remove_file(&p));
        }
        self.reset_inodes();
        Ok(loss)
    }
}

/// Read up to `n` bytes at `off` (fewer at the end of the file).
fn read_at(f: &File, off: u64, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let k = f.read_at(&mut buf[got..], off + got as u64)?;
        if k == 0 {
            break;
        }
        got += k;
    }
    buf.truncate(got);
    Ok(buf)
}
