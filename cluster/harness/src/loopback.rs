//! `LoopbackHarness`: N kvnode processes on 127.0.0.1 ports. Layout of its
//! run folder:
//! ```text
//! <run>/nodes/<id>/data      the node's data directory
//! <run>/nodes/<id>/node.log  its stdout and stderr (appended across restarts)
//! ```
//! Dropping the harness SIGKILLs and reaps every process it started.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use faultline_raft::NodeId;

use super::error::HarnessError;
use super::locate::find_kvnode;
use super::members::{GroupFlags, Launch, Launched, Members, impl_harness_via_members};
use super::ports::free_loopback_addrs;

/// How to start a loopback group.
#[derive(Debug, Clone)]
pub struct LoopbackOptions {
    /// Number of members (ids 1..=nodes).
    pub nodes: usize,
    /// The run folder (created if missing).
    pub run_dir: PathBuf,
    /// The kvnode binary (default: [`find_kvnode`]).
    pub kvnode: Option<PathBuf>,
    /// Planted bugs passed to every member (`--bug NAME`).
    pub bugs: Vec<String>,
    /// Further kvnode flags for every member (e.g. `--snapshot-entries 50`).
    pub extra_args: Vec<String>,
    /// The group id.
    pub group: u64,
    /// Run data directories on diskfs mounts (power-loss faults).
    pub disk_faults: Option<crate::disk::DiskFaults>,
}

impl LoopbackOptions {
    pub fn new(nodes: usize, run_dir: impl Into<PathBuf>) -> LoopbackOptions {
        LoopbackOptions {
            nodes,
            run_dir: run_dir.into(),
            kvnode: None,
            bugs: Vec::new(),
            extra_args: Vec::new(),
            group: 0,
            disk_faults: None,
        }
    }
}

/// A group of kvnode processes on loopback.
pub struct LoopbackHarness {
    members: Members,
    launch: LoopbackLaunch,
}

/// How a loopback member is started: `kvnode --id .. --peers ..`.
struct LoopbackLaunch {
    kvnode: PathBuf,
    opts: LoopbackOptions,
}

impl Launch for LoopbackLaunch {
    fn command(&self, members: &Members, id: NodeId) -> Result<Launched, HarnessError> {
        let flags = GroupFlags {
            group: self.opts.group,
            bugs: &self.opts.bugs,
            extra_args: &self.opts.extra_args,
            listen: false,
        };
        Ok(Launched {
            program: self.kvnode.clone(),
            args: members.kvnode_args(id, &flags),
        })
    }

    fn new_address(&mut self, _id: NodeId) -> Result<SocketAddr, HarnessError> {
        free_loopback_addrs(1)
            .map_err(HarnessError::io(
                "reserve a port on",
                Path::new("127.0.0.1"),
            ))?
            .into_iter()
            .next()
            .ok_or_else(|| HarnessError::Membership("no free loopback port".into()))
    }
}

impl LoopbackHarness {
    /// Start every member.
    pub fn start(opts: LoopbackOptions) -> Result<LoopbackHarness, HarnessError> {
        let kvnode = match &opts.kvnode {
            Some(p) => p.clone(),
            None => find_kvnode()?,
        };
        let ports = free_loopback_addrs(opts.nodes)
            .map_err(HarnessError::io("reserve ports on", Path::new("127.0.0.1")))?;
        let addrs: BTreeMap<NodeId, SocketAddr> = (1..=opts.nodes as NodeId).zip(ports).collect();
        let mut h = LoopbackHarness {
            members: Members::new(opts.run_dir.clone(), addrs),
            launch: LoopbackLaunch { kvnode, opts },
        };
        if let Some(d) = h.launch.opts.disk_faults.clone() {
            h.members.enable_disk_faults(d)?;
        }
        h.members.spawn_all(&h.launch)?;
        Ok(h)
    }

    /// The command-line arguments member `id` is started with.
    pub fn args_for(&self, id: NodeId) -> Vec<String> {
        self.launch
            .command(&self.members, id)
            .map(|l| l.args)
            .unwrap_or_default()
    }

    /// SIGKILL and reap every member now (what Drop does).
    pub fn kill_all(&mut self) {
        self.members.kill_all();
    }
}

impl_harness_via_members!(LoopbackHarness);

impl Drop for LoopbackHarness {
    fn drop(&mut self) {
        self.members.kill_all();
    }
}
