//! The namespace journal: creates, renames and removals that are already
//! applied to the backing tree but not yet made durable by an fsync of the
//! directories they touch. A directory fsync commits the changes whose
//! directories are all synced; so does the passing of time, when a commit
//! interval is set (a journaling file system commits its metadata every few
//! seconds: ext4's `commit=5`); a power loss undoes the rest, newest first.
//! Removed files wait in the trash folder until their removal commits.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One namespace change, with backing paths relative to the tree root
/// (trash paths are absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A file or directory was created at `path`.
    Created { path: PathBuf, is_dir: bool },
    /// `from` was renamed to `to`.
    Renamed { from: PathBuf, to: PathBuf },
    /// `path` was removed (or replaced by a rename); its old content waits
    /// at `trash` until the removal commits.
    Removed { path: PathBuf, trash: PathBuf },
}

#[derive(Debug, Clone)]
struct Pending {
    change: Change,
    /// Directories (inode numbers) whose fsync this change still waits for.
    dirs: BTreeSet<u64>,
    /// When it was made.
    at: Instant,
}

/// Namespace changes not yet durable, oldest first.
#[derive(Debug, Default)]
pub struct Journal {
    pending: Vec<Pending>,
}

/// What a power loss undid.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Undone {
    pub changes: usize,
    /// Undo steps that failed (the path was gone or taken); each says why.
    pub failures: Vec<String>,
}

impl Journal {
    /// Record `change`, durable once every directory in `dirs` is fsynced.
    pub fn record(&mut self, change: Change, dirs: impl IntoIterator<Item = u64>) {
        self.record_at(change, dirs, Instant::now());
    }

    /// [`Journal::record`] of a change made at `at`.
    pub fn record_at(&mut self, change: Change, dirs: impl IntoIterator<Item = u64>, at: Instant) {
        self.pending.push(Pending {
            change,
            dirs: dirs.into_iter().collect(),
            at,
        });
    }

    /// The file system's periodic commit: every change made `interval` or
    /// longer before `now` is durable (with all older ones: the journal
    /// commits in order). Returns how many committed.
    pub fn commit_older_than(&mut self, now: Instant, interval: Duration) -> io::Result<usize> {
        let n = self
            .pending
            .iter()
            .rposition(|p| now.saturating_duration_since(p.at) >= interval)
            .map_or(0, |i| i + 1);
        for p in self.pending.drain(..n) {
            if let Change::Removed { trash, .. } = &p.change {
                remove_any(trash)?;
            }
        }
        Ok(n)
    }

    /// Changes not yet durable.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Directory `dir` was fsynced: the changes waiting only for it commit
    /// (a committed removal's trash is deleted). Returns how many committed.
    pub fn sync_dir(&mut self, dir: u64) -> io::Result<usize> {
        let mut committed = 0;
        let mut keep = Vec::with_capacity(self.pending.len());
        for mut p in std::mem::take(&mut self.pending) {
            p.dirs.remove(&dir);
            if p.dirs.is_empty() {
                committed += 1;
                if let Change::Removed { trash, .. } = &p.change {
                    remove_any(trash)?;
                }
            } else {
                keep.push(p);
            }
        }
        self.pending = keep;
        Ok(committed)
    }

    /// Power loss: undo every pending change in `root`, newest first.
    pub fn undo_all(&mut self, root: &Path) -> Undone {
        let mut out = Undone::default();
        while let Some(p) = self.pending.pop() {
            out.changes += 1;
            let res = match &p.change {
                Change::Created { path, .. } => remove_any(&root.join(path)),
                Change::Renamed { from, to } => fs::rename(root.join(to), root.join(from)),
                Change::Removed { path, trash } => fs::rename(trash, root.join(path)),
            };
            if let Err(e) = res {
                out.failures.push(format!("undo {:?}: {e}", p.change));
            }
        }
        out
    }
}

/// Remove a file or a whole directory; a missing path is not an error.
fn remove_any(path: &Path) -> io::Result<()> {
    let res = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match res {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_runs_newest_first_and_restores_a_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let trash = dir.path().join("trash");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&trash).unwrap();
        fs::write(root.join("hs"), b"old").unwrap();
        let mut j = Journal::default();
        // write tmp, rename over hs (the old hs goes to the trash)
        fs::write(root.join("tmp"), b"new").unwrap();
        j.record(
            Change::Created {
                path: "tmp".into(),
                is_dir: false,
            },
            [1],
        );
        fs::rename(root.join("hs"), trash.join("0")).unwrap();
        j.record(
            Change::Removed {
                path: "hs".into(),
                trash: trash.join("0"),
            },
            [1],
        );
        fs::rename(root.join("tmp"), root.join("hs")).unwrap();
        j.record(
            Change::Renamed {
                from: "tmp".into(),
                to: "hs".into(),
            },
            [1],
        );
        let undone = j.undo_all(&root);
        assert_eq!(undone.changes, 3);
        assert!(undone.failures.is_empty(), "{:?}", undone.failures);
        assert_eq!(fs::read(root.join("hs")).unwrap(), b"old");
        assert!(!root.join("tmp").exists());
        assert!(j.is_empty());
    }

    #[test]
    fn a_change_commits_when_all_its_directories_are_synced() {
        let dir = tempfile::tempdir().unwrap();
        let trash = dir.path().join("t");
        fs::write(&trash, b"x").unwrap();
        let mut j = Journal::default();
        j.record(
            Change::Removed {
                path: "a/x".into(),
                trash: trash.clone(),
            },
            [2, 3],
        );
        j.record(
            Change::Created {
                path: "b".into(),
                is_dir: true,
            },
            [1],
        );
        assert_eq!(j.sync_dir(2).unwrap(), 0);
        assert_eq!(j.len(), 2);
        assert_eq!(j.sync_dir(3).unwrap(), 1);
        assert!(!trash.exists(), "a committed removal empties its trash");
        assert_eq!(j.len(), 1);
        assert_eq!(j.sync_dir(1).unwrap(), 1);
        assert!(j.is_empty());
    }

    #[test]
    fn the_periodic_commit_makes_old_changes_durable_in_order() {
        let t0 = Instant::now();
        let mut j = Journal::default();
        j.record_at(
            Change::Created {
                path: "a".into(),
                is_dir: false,
            },
            [1],
            t0,
        );
        j.record_at(
            Change::Created {
                path: "b".into(),
                is_dir: false,
            },
            [1],
            t0 + Duration::from_secs(4),
        );
        j.record_at(
            Change::Created {
                path: "c".into(),
                is_dir: false,
            },
            [1],
            t0 + Duration::from_secs(9),
        );
        let five = Duration::from_secs(5);
        assert_eq!(
            j.commit_older_than(t0 + Duration::from_secs(4), five)
                .unwrap(),
            0
        );
        assert_eq!(
            j.commit_older_than(t0 + Duration::from_secs(9), five)
                .unwrap(),
            2
        );
        assert_eq!(j.len(), 1, "c is younger than the interval");
    }
}
