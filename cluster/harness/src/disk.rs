//! Disk faults for a group (kvnode members, or etcd members): one
//! `faultline-diskfs` server per member,
//! mounted over the member's data directory (backing folder
//! `<run>/nodes/<id>/disk`, control socket `<run>/nodes/<id>/diskfs.sock`,
//! log `<run>/nodes/<id>/diskfs.log`). A server lives from the member's
//! first start to the end of the group, across kills and restarts, so a
//! power loss (`lose_unsynced`) acts on what the killed process left
//! unsynced. Stopping a server unmounts; a server whose parent dies
//! unmounts itself, and `faultline clean` unmounts what a SIGKILLed server
//! left.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faultline_raft::NodeId;

use super::error::HarnessError;
use super::process::NodeProcess;

/// Disk-fault options of a group (`None` in the options: plain directories).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskFaults {
    /// Seed of the servers' tear choices (member `id` gets `seed + id`).
    pub seed: u64,
    /// The `faultline-diskfs` binary (default: next to the current
    /// executable, then on PATH).
    pub binary: Option<PathBuf>,
}

/// The path of the `faultline-diskfs` binary, or an error saying how to
/// build it.
pub fn find_diskfs() -> Result<PathBuf, HarnessError> {
    crate::locate::find_binary("faultline-diskfs").ok_or_else(|| HarnessError::DiskfsMissing {
        exe: std::env::current_exe()
            .unwrap_or_default()
            .display()
            .to_string(),
    })
}

/// One running server.
struct Server {
    process: NodeProcess,
    mount: PathBuf,
    control: PathBuf,
}

impl Server {
    fn stop(mut self) {
        let status = self.process.terminate(Duration::from_secs(5));
        tracing::debug!(?status, mount = %self.mount.display(), "stopped diskfs");
        if faultline_diskfs::mounts::is_mounted(&self.mount)
            && let Err(e) = faultline_diskfs::mounts::unmount(&self.mount)
        {
            tracing::warn!(error = %e, "diskfs mount left behind; `faultline clean` removes it");
        }
    }
}

/// The servers of one group.
pub(crate) struct DiskServers {
    opts: DiskFaults,
    binary: PathBuf,
    servers: BTreeMap<NodeId, Server>,
}

impl DiskServers {
    pub fn new(opts: DiskFaults) -> Result<DiskServers, HarnessError> {
        if !Path::new("/dev/fuse").exists() {
            return Err(HarnessError::NoFuse);
        }
        let binary = match &opts.binary {
            Some(p) => p.clone(),
            None => find_diskfs()?,
        };
        Ok(DiskServers {
            opts,
            binary,
            servers: BTreeMap::new(),
        })
    }

    /// Mount a server over `data` (member `id`, folder `node_dir`) unless
    /// one runs; returns once it answers on its control socket.
    pub fn ensure(&mut self, id: NodeId, node_dir: &Path, data: &Path) -> Result<(), HarnessError> {
        if self.servers.contains_key(&id) {
            return Ok(());
        }
        let backing = node_dir.join("disk");
        let control = node_dir.join("diskfs.sock");
        let log = node_dir.join("diskfs.log");
        // A data directory with files in it (a run without diskfs before)
        // moves under the backing root.
        if data.is_dir() && !faultline_diskfs::mounts::is_mounted(data) {
            let root = backing.join("root");
            if !root.exists() {
                std::fs::create_dir_all(&backing).map_err(HarnessError::io("create", &backing))?;
                std::fs::rename(data, &root).map_err(HarnessError::io("move", data))?;
            }
        }
        std::fs::create_dir_all(data).map_err(HarnessError::io("create", data))?;
        let args = vec![
            "--backing".to_string(),
            backing.display().to_string(),
            "--mount".into(),
            data.display().to_string(),
            "--control".into(),
            control.display().to_string(),
            "--seed".into(),
            self.opts.seed.wrapping_add(id).to_string(),
        ];
        let mut process = NodeProcess::spawn(id, &self.binary, &args, &log)?;
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let ping = faultline_diskfs::control::request(&control, "ping", Duration::from_secs(1));
            if ping.is_ok() && faultline_diskfs::mounts::is_mounted(data) {
                break;
            }
            if process.try_exit().is_some() || Instant::now() > until {
                process.kill();
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(HarnessError::DiskfsStart {
                    id,
                    detail: tail.lines().rev().take(5).collect::<Vec<_>>().join(" | "),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        tracing::debug!(id, pid = process.pid(), "diskfs mounted");
        self.servers.insert(
            id,
            Server {
                process,
                mount: data.to_path_buf(),
                control,
            },
        );
        Ok(())
    }

    /// The server pids (for the run's leftovers record).
    pub fn pid(&self, id: NodeId) -> Option<u32> {
        self.servers.get(&id).map(|s| s.process.pid())
    }

    /// Power loss on member `id`'s disk: what it lost (JSON).
    pub fn lose_unsynced(&self, id: NodeId, tear: bool) -> Result<serde_json::Value, HarnessError> {
        let s = self.servers.get(&id).ok_or(HarnessError::NoDiskFaults)?;
        faultline_diskfs::control::lose_unsynced(&s.control, tear).map_err(|e| {
            HarnessError::DiskfsControl {
                id,
                detail: e.to_string(),
            }
        })
    }

    /// `sync(1)` on every member's disk: all unsynced data becomes durable.
    pub fn sync_all(&self) -> Result<(), HarnessError> {
        for (&id, s) in &self.servers {
            faultline_diskfs::control::sync(&s.control).map_err(|e| {
                HarnessError::DiskfsControl {
                    id,
                    detail: e.to_string(),
                }
            })?;
        }
        Ok(())
    }

    /// Unmount every server's file system and stop it.
    pub fn stop_all(&mut self) {
        for (_, s) in std::mem::take(&mut self.servers) {
            s.stop();
        }
    }
}

impl Drop for DiskServers {
    fn drop(&mut self) {
        self.stop_all();
    }
}
