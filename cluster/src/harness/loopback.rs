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
use std::process::ExitStatus;
use std::time::Duration;

use faultline_raft::NodeId;

use super::error::HarnessError;
use super::locate::find_kvnode;
use super::members::{Launch, Launched, Members, impl_harness_via_members};
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
        let mut args = vec![
            "--id".to_string(),
            id.to_string(),
            "--group".into(),
            self.opts.group.to_string(),
            "--peers".into(),
            members.peers_spec(),
            "--data".into(),
            members.data_dir(id).display().to_string(),
        ];
        for bug in &self.opts.bugs {
            args.push("--bug".into());
            args.push(bug.clone());
        }
        args.extend(self.opts.extra_args.iter().cloned());
        args.extend(members.node_args(id).iter().cloned());
        Ok(Launched {
            program: self.kvnode.clone(),
            args,
        })
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
        h.members.spawn_all(&h.launch)?;
        Ok(h)
    }

    /// The folder of one member (`<run>/nodes/<id>`).
    pub fn node_dir(&self, id: NodeId) -> PathBuf {
        self.members.node_dir(id)
    }

    /// The data directory of one member.
    pub fn data_dir(&self, id: NodeId) -> PathBuf {
        self.members.data_dir(id)
    }

    /// Extra flags for one member from its next (re)start on.
    pub fn set_node_args(&mut self, id: NodeId, args: Vec<String>) {
        self.members.set_node_args(id, args);
    }

    /// The command-line arguments member `id` is started with.
    pub fn args_for(&self, id: NodeId) -> Vec<String> {
        self.launch
            .command(&self.members, id)
            .map(|l| l.args)
            .unwrap_or_default()
    }

    /// Wait up to `timeout` for member `id` to exit on its own (e.g. after a
    /// refused start); its exit status.
    pub fn wait_exit(
        &mut self,
        id: NodeId,
        timeout: Duration,
    ) -> Result<Option<ExitStatus>, HarnessError> {
        self.members.wait_exit(id, timeout)
    }

    /// The content of member `id`'s log so far.
    pub fn read_log(&self, id: NodeId) -> String {
        self.members.read_log(id)
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
