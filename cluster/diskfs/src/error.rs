//! The crate's error: what failed, on which path, and the errno a FUSE
//! reply carries for it.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no inode {0} (stale after a power loss, or never looked up)")]
    NoInode(u64),
    #[error("{} is not a directory", .0.display())]
    NotDir(PathBuf),
    #[error("control socket {}: {detail}", path.display())]
    Control { path: PathBuf, detail: String },
}

impl DiskError {
    /// An `io` error of `op` on `path`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> DiskError {
        let path = path.into();
        move |source| DiskError::Io { op, path, source }
    }

    /// The errno to answer the kernel with.
    pub fn errno(&self) -> i32 {
        match self {
            DiskError::Io { source, .. } => source.raw_os_error().unwrap_or(nix::libc::EIO),
            DiskError::NoInode(_) => nix::libc::ESTALE,
            DiskError::NotDir(_) => nix::libc::ENOTDIR,
            DiskError::Control { .. } => nix::libc::EIO,
        }
    }
}

pub type Result<T, E = DiskError> = std::result::Result<T, E>;
