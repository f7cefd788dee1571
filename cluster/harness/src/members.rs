//! `Members`: the member table both process harnesses share — each
//! member's client address, its running [`NodeProcess`], its per-node extra
//! flags and its folder (`<run>/nodes/<id>/{data,node.log}`) — with the
//! kill / restart / pause / resume / status / stop plumbing over it. A
//! harness supplies only how a member is launched ([`Launch`]); the
//! `impl_harness_via_members!` macro then writes its
//! whole `Harness` impl. Dropping the table SIGKILLs and reaps every
//! process in it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use faultline_raft::NodeId;
use nix::sys::signal::Signal;

use super::disk::{DiskFaults, DiskServers};
use super::error::HarnessError;
use super::process::NodeProcess;
use faultline_kvnode::client::{AdminClient, ClientOptions, Committed, KvClient};
use faultline_kvnode::node::NodeStatus;

/// How a harness starts one member: the program and its arguments.
pub(crate) trait Launch {
    fn command(&self, members: &Members, id: NodeId) -> Result<Launched, HarnessError>;
    /// Where a new member `id` will serve (a fresh port, or a spare
    /// namespace's address).
    fn new_address(&mut self, id: NodeId) -> Result<SocketAddr, HarnessError>;
    /// Called with each new process's pid (e.g. to record it for cleanup).
    fn started(&self, _id: NodeId, _pid: u32) {}
}

/// A member's command line.
pub(crate) struct Launched {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// What every member of a group is started with.
pub(crate) struct GroupFlags<'a> {
    pub group: u64,
    pub bugs: &'a [String],
    pub extra_args: &'a [String],
    /// Pass `--listen <own address>` (a node in a namespace listens only
    /// there).
    pub listen: bool,
}

/// The members of one group and their processes.
pub(crate) struct Members {
    run_dir: PathBuf,
    addrs: BTreeMap<NodeId, SocketAddr>,
    /// The group's initial voters (every member added later joins them).
    initial: BTreeSet<NodeId>,
    procs: BTreeMap<NodeId, NodeProcess>,
    /// Per-node extra flags (added after the group's), for the next start.
    node_args: BTreeMap<NodeId, Vec<String>>,
    status_client: KvClient,
    /// The members' diskfs servers, when the group runs with disk faults
    /// (declared last: dropped after the processes using the mounts).
    disks: Option<DiskServers>,
}

impl Members {
    /// A table of members serving at `addrs`, none started yet.
    pub fn new(run_dir: PathBuf, addrs: BTreeMap<NodeId, SocketAddr>) -> Members {
        let status_client = KvClient::new(
            faultline_kvnode::client::fresh_client_id(),
            &addrs.iter().map(|(&id, a)| (id, a.to_string())).collect(),
            ClientOptions::default(),
        );
        Members {
            run_dir,
            initial: addrs.keys().copied().collect(),
            addrs,
            procs: BTreeMap::new(),
            node_args: BTreeMap::new(),
            status_client,
            disks: None,
        }
    }

    pub fn node_ids(&self) -> Vec<NodeId> {
        self.addrs.keys().copied().collect()
    }

    pub fn addresses(&self) -> BTreeMap<NodeId, String> {
        self.addrs
            .iter()
            .map(|(&id, a)| (id, a.to_string()))
            .collect()
    }

    /// `1=host:port,2=host:port,...` (kvnode's `--peers`) for member `id`:
    /// an initial member gets the initial members (its initial voters); a
    /// member that joined later gets every member known now (addresses
    /// only: it must be able to answer the leader, whoever that is), its
    /// initial voters going with `--join`.
    pub fn peers_spec(&self, id: NodeId) -> String {
        let joiner = self.joined_later(id);
        self.addrs
            .iter()
            .filter(|(m, _)| joiner || self.initial.contains(m))
            .map(|(id, a)| format!("{id}={a}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether member `id` joined after the group started.
    pub fn joined_later(&self, id: NodeId) -> bool {
        !self.initial.contains(&id)
    }

    /// The id a new member gets: one above every id used so far.
    pub fn next_id(&self) -> NodeId {
        self.addrs.keys().max().map_or(1, |m| m + 1)
    }

    /// Record a new member serving at `addr` (not started, not yet in the
    /// group's configuration).
    pub fn insert(&mut self, id: NodeId, addr: SocketAddr) {
        self.addrs.insert(id, addr);
        self.status_client.add_node(id, &addr.to_string());
    }

    /// Ask the group to make member `id` a voter (its address goes with
    /// the change); returns once the change committed.
    pub async fn add_voter(
        &self,
        id: NodeId,
        deadline: Duration,
    ) -> Result<Committed, HarnessError> {
        let addr = self.addrs.get(&id).ok_or(HarnessError::UnknownNode(id))?;
        self.admin_client()
            .add_member(id, &addr.to_string(), deadline)
            .await
            .map_err(|e| HarnessError::Membership(e.to_string()))
    }

    /// Ask the group to remove member `id`; returns once committed.
    pub async fn remove_voter(
        &self,
        id: NodeId,
        deadline: Duration,
    ) -> Result<Committed, HarnessError> {
        self.known(id)?;
        self.admin_client()
            .remove_member(id, deadline)
            .await
            .map_err(|e| HarnessError::Membership(e.to_string()))
    }

    fn admin_client(&self) -> AdminClient {
        AdminClient::new(&self.addresses(), Duration::from_millis(500))
    }

    /// The folder of one member (`<run>/nodes/<id>`).
    pub fn node_dir(&self, id: NodeId) -> PathBuf {
        self.run_dir.join("nodes").join(id.to_string())
    }

    /// The data directory of one member.
    pub fn data_dir(&self, id: NodeId) -> PathBuf {
        self.node_dir(id).join("data")
    }

    pub fn log_path(&self, id: NodeId) -> PathBuf {
        self.node_dir(id).join("node.log")
    }

    /// The content of member `id`'s log so far.
    pub fn read_log(&self, id: NodeId) -> String {
        std::fs::read_to_string(self.log_path(id)).unwrap_or_default()
    }

    /// kvnode's flags for member `id`: `--id --group --peers [--listen]
    /// --data`, `--bug` for each planted bug, the group's extra flags, then
    /// the member's own ([`Members::set_node_args`]).
    pub fn kvnode_args(&self, id: NodeId, group: &GroupFlags<'_>) -> Vec<String> {
        let mut args = vec![
            "--id".to_string(),
            id.to_string(),
            "--group".into(),
            group.group.to_string(),
            "--peers".into(),
            self.peers_spec(id),
        ];
        if self.joined_later(id) {
            let initial: Vec<String> = self.initial.iter().map(|i| i.to_string()).collect();
            args.extend(["--join".into(), initial.join(",")]);
        }
        if let Some(a) = self.addrs.get(&id).filter(|_| group.listen) {
            args.extend(["--listen".into(), a.to_string()]);
        }
        args.extend(["--data".into(), self.data_dir(id).display().to_string()]);
        for bug in group.bugs {
            args.extend(["--bug".into(), bug.clone()]);
        }
        args.extend(group.extra_args.iter().cloned());
        args.extend(self.node_args(id).iter().cloned());
        args
    }

    pub fn set_node_args(&mut self, id: NodeId, args: Vec<String>) {
        self.node_args.insert(id, args);
    }

    /// The extra flags of member `id`.
    pub fn node_args(&self, id: NodeId) -> &[String] {
        self.node_args.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    fn known(&self, id: NodeId) -> Result<(), HarnessError> {
        if self.addrs.contains_key(&id) {
            Ok(())
        } else {
            Err(HarnessError::UnknownNode(id))
        }
    }

    /// Run every member's data directory on a diskfs mount from its first
    /// start on (see [`crate::disk`]).
    pub fn enable_disk_faults(&mut self, opts: DiskFaults) -> Result<(), HarnessError> {
        self.disks = Some(DiskServers::new(opts)?);
        Ok(())
    }

    /// Power loss on member `id`'s disk (its process should be dead): what
    /// was lost, as JSON.
    pub fn lose_unsynced(&self, id: NodeId, tear: bool) -> Result<serde_json::Value, HarnessError> {
        self.known(id)?;
        self.disks
            .as_ref()
            .ok_or(HarnessError::NoDiskFaults)?
            .lose_unsynced(id, tear)
    }

    /// The pid of member `id`'s diskfs server.
    pub fn disk_pid(&self, id: NodeId) -> Option<u32> {
        self.disks.as_ref().and_then(|d| d.pid(id))
    }

    /// Start member `id` (its folder is created first).
    pub fn spawn(&mut self, id: NodeId, how: &impl Launch) -> Result<(), HarnessError> {
        self.known(id)?;
        let dir = self.node_dir(id);
        std::fs::create_dir_all(&dir).map_err(HarnessError::io("create", &dir))?;
        if let Some(d) = self.disks.as_mut() {
            let data = dir.join("data");
            d.ensure(id, &dir, &data)?;
        }
        let cmd = how.command(self, id)?;
        let p = NodeProcess::spawn(id, &cmd.program, &cmd.args, &self.log_path(id))?;
        how.started(id, p.pid());
        tracing::debug!(id, pid = p.pid(), "started kvnode");
        self.procs.insert(id, p);
        Ok(())
    }

    /// Start every member.
    pub fn spawn_all(&mut self, how: &impl Launch) -> Result<(), HarnessError> {
        for id in self.node_ids() {
            self.spawn(id, how)?;
        }
        Ok(())
    }

    fn process(&mut self, id: NodeId) -> Result<&mut NodeProcess, HarnessError> {
        self.known(id)?;
        self.procs.get_mut(&id).ok_or(HarnessError::NotRunning(id))
    }

    pub fn pid(&self, id: NodeId) -> Option<u32> {
        self.procs.get(&id).map(NodeProcess::pid)
    }

    pub fn is_running(&mut self, id: NodeId) -> bool {
        self.procs
            .get_mut(&id)
            .is_some_and(|p| p.try_exit().is_none())
    }

    pub fn kill(&mut self, id: NodeId) -> Result<(), HarnessError> {
        let status = self.process(id)?.kill();
        tracing::debug!(id, ?status, "killed kvnode");
        self.procs.remove(&id);
        Ok(())
    }

    pub fn restart(&mut self, id: NodeId, how: &impl Launch) -> Result<(), HarnessError> {
        self.known(id)?;
        if self.is_running(id) {
            return Err(HarnessError::AlreadyRunning(id));
        }
        self.procs.remove(&id);
        self.spawn(id, how)
    }

    pub fn pause(&mut self, id: NodeId) -> Result<(), HarnessError> {
        self.process(id)?.signal(Signal::SIGSTOP)
    }

    pub fn resume(&mut self, id: NodeId) -> Result<(), HarnessError> {
        self.process(id)?.signal(Signal::SIGCONT)
    }

    /// Wait up to `timeout` for member `id` to exit on its own.
    pub fn wait_exit(
        &mut self,
        id: NodeId,
        timeout: Duration,
    ) -> Result<Option<ExitStatus>, HarnessError> {
        Ok(self.process(id)?.wait_exit(timeout))
    }

    pub async fn status(&self, id: NodeId, timeout: Duration) -> Result<NodeStatus, HarnessError> {
        self.known(id)?;
        self.status_client
            .status(id, timeout)
            .await
            .map_err(|e| HarnessError::Status {
                id,
                detail: e.to_string(),
            })
    }

    pub fn log_paths(&self) -> BTreeMap<NodeId, PathBuf> {
        self.addrs
            .keys()
            .map(|&id| (id, self.log_path(id)))
            .collect()
    }

    /// SIGTERM every process, SIGKILL after a grace period.
    pub fn stop_all(&mut self) -> Result<(), HarnessError> {
        for (id, mut p) in std::mem::take(&mut self.procs) {
            let status = p.terminate(Duration::from_secs(3));
            tracing::debug!(id, ?status, "stopped kvnode");
        }
        if let Some(d) = self.disks.as_mut() {
            d.stop_all();
        }
        Ok(())
    }

    /// SIGKILL and reap every process now.
    pub fn kill_all(&mut self) {
        // NodeProcess::drop SIGKILLs and reaps each one.
        self.procs.clear();
        if let Some(d) = self.disks.as_mut() {
            d.stop_all();
        }
    }
}

/// `impl Harness for $ty` by delegating to its `members: Members` field,
/// with its `launch` field (something implementing [`Launch`]) starting
/// members on restart; and the accessors every harness has (member folders,
/// logs, per-member flags, waiting for an exit).
macro_rules! impl_harness_via_members {
    ($ty:ty) => {
        impl $ty {
            /// The folder of one member (`<run>/nodes/<id>`).
            pub fn node_dir(&self, id: faultline_raft::NodeId) -> std::path::PathBuf {
                self.members.node_dir(id)
            }

            /// The data directory of one member.
            pub fn data_dir(&self, id: faultline_raft::NodeId) -> std::path::PathBuf {
                self.members.data_dir(id)
            }

            /// Extra flags for one member from its next (re)start on.
            pub fn set_node_args(&mut self, id: faultline_raft::NodeId, args: Vec<String>) {
                self.members.set_node_args(id, args);
            }

            /// Wait up to `timeout` for member `id` to exit on its own (e.g.
            /// after a refused start); its exit status.
            pub fn wait_exit(
                &mut self,
                id: faultline_raft::NodeId,
                timeout: std::time::Duration,
            ) -> Result<Option<std::process::ExitStatus>, $crate::HarnessError> {
                self.members.wait_exit(id, timeout)
            }

            /// The content of member `id`'s log so far.
            pub fn read_log(&self, id: faultline_raft::NodeId) -> String {
                self.members.read_log(id)
            }

            /// The pid of member `id`'s diskfs server (with disk faults).
            pub fn disk_pid(&self, id: faultline_raft::NodeId) -> Option<u32> {
                self.members.disk_pid(id)
            }
        }

        impl $crate::Harness for $ty {
            fn node_ids(&self) -> Vec<faultline_raft::NodeId> {
                self.members.node_ids()
            }
            fn addresses(&self) -> std::collections::BTreeMap<faultline_raft::NodeId, String> {
                self.members.addresses()
            }
            fn pid(&self, id: faultline_raft::NodeId) -> Option<u32> {
                self.members.pid(id)
            }
            fn is_running(&mut self, id: faultline_raft::NodeId) -> bool {
                self.members.is_running(id)
            }
            fn kill(&mut self, id: faultline_raft::NodeId) -> Result<(), $crate::HarnessError> {
                self.members.kill(id)
            }
            fn restart(&mut self, id: faultline_raft::NodeId) -> Result<(), $crate::HarnessError> {
                self.members.restart(id, &self.launch)
            }
            fn pause(&mut self, id: faultline_raft::NodeId) -> Result<(), $crate::HarnessError> {
                self.members.pause(id)
            }
            fn resume(&mut self, id: faultline_raft::NodeId) -> Result<(), $crate::HarnessError> {
                self.members.resume(id)
            }
            async fn status(
                &self,
                id: faultline_raft::NodeId,
                timeout: std::time::Duration,
            ) -> Result<faultline_kvnode::node::NodeStatus, $crate::HarnessError> {
                self.members.status(id, timeout).await
            }
            fn log_paths(
                &self,
            ) -> std::collections::BTreeMap<faultline_raft::NodeId, std::path::PathBuf> {
                self.members.log_paths()
            }
            fn stop_all(&mut self) -> Result<(), $crate::HarnessError> {
                self.members.stop_all()
            }
            fn lose_unsynced(
                &mut self,
                id: faultline_raft::NodeId,
                tear: bool,
            ) -> Result<serde_json::Value, $crate::HarnessError> {
                self.members.lose_unsynced(id, tear)
            }
            fn start_new_member(&mut self) -> Result<faultline_raft::NodeId, $crate::HarnessError> {
                let id = self.members.next_id();
                let addr = $crate::members::Launch::new_address(&mut self.launch, id)?;
                self.members.insert(id, addr);
                self.members.spawn(id, &self.launch)?;
                Ok(id)
            }
            async fn add_member(
                &self,
                id: faultline_raft::NodeId,
                deadline: std::time::Duration,
            ) -> Result<faultline_kvnode::client::Committed, $crate::HarnessError> {
                self.members.add_voter(id, deadline).await
            }
            async fn remove_member(
                &self,
                id: faultline_raft::NodeId,
                deadline: std::time::Duration,
            ) -> Result<faultline_kvnode::client::Committed, $crate::HarnessError> {
                self.members.remove_voter(id, deadline).await
            }
        }
    };
}
pub(crate) use impl_harness_via_members;
