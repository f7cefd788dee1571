//! Finding diskfs mounts (`/proc/self/mountinfo`, by the file-system name
//! `faultline-diskfs@<pid>`) and unmounting them. A mount whose server
//! process is gone is an orphan: every access to it fails with "transport
//! endpoint is not connected" until it is unmounted, which `faultline
//! clean` does.

use std::path::{Path, PathBuf};

use crate::FS_NAME;
use crate::error::{DiskError, Result};

/// One diskfs mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskMount {
    pub mountpoint: PathBuf,
    /// The server's pid, from the file-system name.
    pub pid: Option<u32>,
}

/// Decode mountinfo's octal escapes (`\040` is a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8)
        {
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The diskfs mounts in a mountinfo text.
pub fn parse_mountinfo(text: &str) -> Vec<DiskMount> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = left.split(' ').collect();
        let tail: Vec<&str> = right.split(' ').collect();
        let (Some(mountpoint), Some(fstype), Some(source)) =
            (fields.get(4), tail.first(), tail.get(1))
        else {
            continue;
        };
        if !fstype.starts_with("fuse") || !source.starts_with(FS_NAME) {
            continue;
        }
        let pid = source
            .strip_prefix(FS_NAME)
            .and_then(|r| r.strip_prefix('@'))
            .and_then(|p| p.parse().ok());
        out.push(DiskMount {
            mountpoint: PathBuf::from(unescape(mountpoint)),
            pid,
        });
    }
    out
}

/// The diskfs mounts of this mount namespace.
pub fn list() -> Vec<DiskMount> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default()
}

/// Whether a diskfs is mounted at `path`.
pub fn is_mounted(path: &Path) -> bool {
    let want = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    list()
        .iter()
        .any(|m| m.mountpoint == want || m.mountpoint == path)
}

/// Whether `pid` is a running diskfs server.
pub fn server_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .map(|c| c.split('\0').next().unwrap_or("").ends_with(FS_NAME))
        .unwrap_or(false)
}

/// Mounts whose server is gone.
pub fn orphans() -> Vec<DiskMount> {
    list()
        .into_iter()
        .filter(|m| !m.pid.is_some_and(server_alive))
        .collect()
}

/// Detach the mount at `path` (lazy: it goes once nothing uses it).
pub fn unmount(path: &Path) -> Result<()> {
    nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH).map_err(|e| DiskError::Io {
        op: "unmount",
        path: path.to_path_buf(),
        source: std::io::Error::from(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diskfs_mounts_are_found_with_their_server_pid() {
        let text = "\
36 35 98:0 / /mnt1 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
90 28 0:52 / /tmp/run\\040x/nodes/1/data rw,nosuid,nodev,relatime - fuse faultline-diskfs@4242 rw,user_id=0,group_id=0
91 28 0:53 / /tmp/other rw - fuse sshfs rw
92 28 0:54 / /tmp/odd rw - fuse faultline-diskfs rw
";
        let m = parse_mountinfo(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].mountpoint, PathBuf::from("/tmp/run x/nodes/1/data"));
        assert_eq!(m[0].pid, Some(4242));
        assert_eq!(m[1].pid, None);
    }
}
