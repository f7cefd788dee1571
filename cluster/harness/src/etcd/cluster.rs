//! [`EtcdCluster`]: `n` etcd members named `1..=n`, each a process on two
//! 127.0.0.1 ports (client, peer) or in its own network namespace (ports
//! 2379/2380 on its namespace address, started as `ip netns exec <ns> env
//! <run marker, faketime vars> etcd ...`, both exec in place so the pid is
//! etcd's). Run folder: `<run>/nodes/<name>/{data,node.log}`. Dropping the
//! cluster kills and reaps every member, then (namespaces) removes the
//! network. With disk faults each member's data directory is a diskfs mount
//! (see [`crate::disk`]), unmounted after the members stop.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faultline_raft::NodeId;
use nix::sys::signal::Signal;

use super::client::{EtcdClient, EtcdStatus};
use super::error::EtcdError;
use super::process::MemberProcess;
use crate::netns::cmd::{ip, tool};
use crate::netns::{Network, NetworkOptions};

/// Client and peer ports of a member in a namespace.
const NS_CLIENT_PORT: u16 = 2379;
const NS_PEER_PORT: u16 = 2380;
/// Status calls end within this.
const STATUS_TIMEOUT: Duration = Duration::from_millis(500);

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    pub members: usize,
    /// The run folder (created if missing).
    pub run_dir: PathBuf,
    /// The etcd binary (default: [`find_etcd`]).
    pub etcd: Option<PathBuf>,
    /// One network namespace per member (needs root); else loopback.
    pub netns: bool,
    /// In namespaces: start members under libfaketime.
    pub faketime: bool,
    /// Run data directories on diskfs mounts (the `power` nemesis).
    pub disk_faults: Option<crate::disk::DiskFaults>,
    /// Further etcd flags for every member (e.g. `--unsafe-no-fsync` on an
    /// etcd that has it: 3.5 and later).
    pub extra_args: Vec<String>,
}

impl EtcdOptions {
    pub fn new(members: usize, run_dir: impl Into<PathBuf>) -> EtcdOptions {
        EtcdOptions {
            members,
            run_dir: run_dir.into(),
            etcd: None,
            netns: false,
            faketime: true,
            disk_faults: None,
            extra_args: Vec::new(),
        }
    }
}

/// `/usr/bin/etcd` or `etcd` on PATH.
pub fn find_etcd() -> Result<PathBuf, EtcdError> {
    let std_path = PathBuf::from("/usr/bin/etcd");
    if std_path.is_file() {
        return Ok(std_path);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("etcd"))
        .find(|p| p.is_file())
        .ok_or(EtcdError::EtcdMissing)
}

#[derive(Debug, Clone)]
struct Member {
    ip: IpAddr,
    client_port: u16,
    peer_port: u16,
}

impl Member {
    fn client_url(&self) -> String {
        format!("http://{}:{}", self.ip, self.client_port)
    }
    fn peer_url(&self) -> String {
        format!("http://{}:{}", self.ip, self.peer_port)
    }
}

/// A running etcd cluster.
pub struct EtcdCluster {
    etcd: PathBuf,
    opts: EtcdOptions,
    token: String,
    members: BTreeMap<NodeId, Member>,
    procs: BTreeMap<NodeId, MemberProcess>,
    network: Option<Arc<Network>>,
    /// For `ip netns exec` and `env`, in namespace mode.
    tools: Option<(PathBuf, PathBuf)>,
    status_clients: BTreeMap<NodeId, EtcdClient>,
    /// etcd member ids to names, learnt from the first member list.
    ids: Mutex<BTreeMap<u64, String>>,
    /// The members' diskfs servers, with disk faults.
    disks: Option<crate::disk::DiskServers>,
}

/// `n * 2` distinct free ports on 127.0.0.1 (all bound at once, then freed).
fn free_ports(n: usize) -> Result<Vec<u16>, EtcdError> {
    let ls = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(EtcdError::io("bind", Path::new("127.0.0.1:0")))?;
    ls.iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(EtcdError::io("bind", Path::new("127.0.0.1:0")))
}

fn name_id(name: &str) -> Result<NodeId, EtcdError> {
    name.parse()
        .map_err(|_| EtcdError::UnknownMember(name.to_string()))
}

impl EtcdCluster {
    /// Start every member (not waiting for a leader). Nothing is left
    /// running on failure.
    pub fn start(opts: EtcdOptions) -> Result<EtcdCluster, EtcdError> {
        let etcd = match &opts.etcd {
            Some(p) => p.clone(),
            None => find_etcd()?,
        };
        let ids: Vec<NodeId> = (1..=opts.members as NodeId).collect();
        let (network, tools, members) = if opts.netns {
            let tools = (ip()?, tool("env", "coreutils")?);
            let net = Network::setup(&NetworkOptions {
                nodes: ids.clone(),
                faketime: opts.faketime,
                fake_monotonic: false,
            })?;
            let mut members = BTreeMap::new();
            for &id in &ids {
                let member = Member {
                    ip: IpAddr::V4(net.node(id)?.ip),
                    client_port: NS_CLIENT_PORT,
                    peer_port: NS_PEER_PORT,
                };
                members.insert(id, member);
            }
            (Some(Arc::new(net)), Some(tools), members)
        } else {
            let ports = free_ports(ids.len() * 2)?;
            let members = ids
                .iter()
                .enumerate()
                .map(|(i, &id)| {
                    let member = Member {
                        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                        client_port: ports[2 * i],
                        peer_port: ports[2 * i + 1],
                    };
                    (id, member)
                })
                .collect();
            (None, None, members)
        };
        let status_clients = members
            .iter()
            .map(|(&id, m): (&NodeId, &Member)| {
                (id, EtcdClient::new(&m.client_url(), STATUS_TIMEOUT))
            })
            .collect();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut cluster = EtcdCluster {
            etcd,
            opts,
            token: format!("faultline-{}-{stamp}", std::process::id()),
            members,
            procs: BTreeMap::new(),
            network,
            tools,
            status_clients,
            ids: Mutex::new(BTreeMap::new()),
            disks: None,
        };
        if let Some(d) = cluster.opts.disk_faults.clone() {
            cluster.disks =
                Some(
                    crate::disk::DiskServers::new(d).map_err(|e| EtcdError::Call {
                        name: "diskfs".into(),
                        detail: e.to_string(),
                    })?,
                );
        }
        for id in ids {
            cluster.spawn(id)?;
        }
        Ok(cluster)
    }

    /// The member names (`"1"`, `"2"`, ...), in order.
    pub fn names(&self) -> Vec<String> {
        self.members.keys().map(|id| id.to_string()).collect()
    }

    /// Each member's client URL, by name.
    pub fn client_urls(&self) -> BTreeMap<String, String> {
        self.members
            .iter()
            .map(|(id, m)| (id.to_string(), m.client_url()))
            .collect()
    }

    /// The namespace network (partitions, loss, clocks), if any.
    pub fn network(&self) -> Option<Arc<Network>> {
        self.network.clone()
    }

    /// `<run>/nodes/<name>`.
    pub fn member_dir(&self, name: &str) -> PathBuf {
        self.opts.run_dir.join("nodes").join(name)
    }

    pub fn log_path(&self, name: &str) -> PathBuf {
        self.member_dir(name).join("node.log")
    }

    /// The pids of the running members, by name.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.procs
            .iter()
            .map(|(id, p)| (id.to_string(), p.pid()))
            .collect()
    }

    /// The etcd command line of member `id` (program, args).
    fn command(&self, id: NodeId) -> Result<(PathBuf, Vec<String>), EtcdError> {
        let m = &self.members[&id];
        let cluster = self
            .members
            .iter()
            .map(|(id, m)| format!("{id}={}", m.peer_url()))
            .collect::<Vec<_>>()
            .join(",");
        let data = self.member_dir(&id.to_string()).join("data");
        let etcd_args = [
            format!("--name={id}"),
            format!("--data-dir={}", data.display()),
            format!("--listen-client-urls={}", m.client_url()),
            format!("--advertise-client-urls={}", m.client_url()),
            format!("--listen-peer-urls={}", m.peer_url()),
            format!("--initial-advertise-peer-urls={}", m.peer_url()),
            format!("--initial-cluster={cluster}"),
            "--initial-cluster-state=new".to_string(),
            format!("--initial-cluster-token={}", self.token),
            "--heartbeat-interval=100".to_string(),
            "--election-timeout=1000".to_string(),
            "--logger=zap".to_string(),
            "--log-outputs=stderr".to_string(),
        ];
        let etcd_args: Vec<String> = etcd_args
            .into_iter()
            .chain(self.opts.extra_args.iter().cloned())
            .collect();
        match (&self.network, &self.tools) {
            (Some(net), Some((ip, env))) => {
                let mut args = vec![
                    "netns".to_string(),
                    "exec".into(),
                    net.node(id)?.namespace.clone(),
                    env.display().to_string(),
                ];
                args.extend(net.node_env(id)?);
                args.push(self.etcd.display().to_string());
                args.extend(etcd_args);
                Ok((ip.clone(), args))
            }
            _ => Ok((self.etcd.clone(), etcd_args)),
        }
    }

    fn spawn(&mut self, id: NodeId) -> Result<(), EtcdError> {
        let dir = self.member_dir(&id.to_string());
        std::fs::create_dir_all(&dir).map_err(EtcdError::io("create", &dir))?;
        if let Some(d) = self.disks.as_mut() {
            d.ensure(id, &dir, &dir.join("data"))
                .map_err(|e| EtcdError::Call {
                    name: id.to_string(),
                    detail: e.to_string(),
                })?;
        }
        let (program, args) = self.command(id)?;
        let p = MemberProcess::spawn(&id.to_string(), &program, &args, &dir.join("node.log"))?;
        if let Some(net) = &self.network
            && let Err(e) = net.record_pid(p.pid())
        {
            tracing::warn!(id, error = %e, "cannot record the etcd pid");
        }
        tracing::debug!(id, pid = p.pid(), "started etcd");
        self.procs.insert(id, p);
        Ok(())
    }

    fn process(&mut self, name: &str) -> Result<&mut MemberProcess, EtcdError> {
        let id = name_id(name)?;
        if !self.members.contains_key(&id) {
            return Err(EtcdError::UnknownMember(name.to_string()));
        }
        self.procs
            .get_mut(&id)
            .ok_or_else(|| EtcdError::NotRunning(name.to_string()))
    }

    /// Whether the member's process is alive (paused counts).
    pub fn is_running(&mut self, name: &str) -> bool {
        self.process(name).is_ok_and(|p| !p.exited())
    }

    /// SIGKILL the member and reap it (its data stays).
    pub fn kill(&mut self, name: &str) -> Result<(), EtcdError> {
        self.process(name)?.kill();
        self.procs.remove(&name_id(name)?);
        Ok(())
    }

    /// Start a killed (or exited) member again on its data.
    pub fn restart(&mut self, name: &str) -> Result<(), EtcdError> {
        let id = name_id(name)?;
        if !self.members.contains_key(&id) {
            return Err(EtcdError::UnknownMember(name.to_string()));
        }
        if self.is_running(name) {
            return Err(EtcdError::AlreadyRunning(name.to_string()));
        }
        self.procs.remove(&id);
        self.spawn(id)
    }

    /// Power loss on member `name`'s disk (kill it first): drop what it
    /// did not fsync (`tear`: cut the newest write); what was lost, as JSON.
    pub fn lose_unsynced(&self, name: &str, tear: bool) -> Result<serde_json::Value, EtcdError> {
        let id = name_id(name)?;
        let call = |detail: String| EtcdError::Call {
            name: name.to_string(),
            detail,
        };
        self.disks
            .as_ref()
            .ok_or_else(|| call(crate::HarnessError::NoDiskFaults.to_string()))?
            .lose_unsynced(id, tear)
            .map_err(|e| call(e.to_string()))
    }

    /// The pid of member `name`'s diskfs server (with disk faults).
    pub fn disk_pid(&self, name: &str) -> Option<u32> {
        let id = name_id(name).ok()?;
        self.disks.as_ref().and_then(|d| d.pid(id))
    }

    pub fn pause(&mut self, name: &str) -> Result<(), EtcdError> {
        self.process(name)?.signal(Signal::SIGSTOP)
    }

    pub fn resume(&mut self, name: &str) -> Result<(), EtcdError> {
        self.process(name)?.signal(Signal::SIGCONT)
    }

    /// A status client for a member (cheap clone; usable without `&mut`).
    fn status_client(&self, name: &str) -> Result<EtcdClient, EtcdError> {
        let id = name_id(name)?;
        self.status_clients
            .get(&id)
            .cloned()
            .ok_or_else(|| EtcdError::UnknownMember(name.to_string()))
    }

    /// The name of etcd member `member_id` (asking `via` for the member list
    /// the first time).
    pub fn member_name(&self, via: &EtcdClient, member_id: u64) -> Option<String> {
        if member_id == 0 {
            return None;
        }
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        if !ids.contains_key(&member_id)
            && let Ok(list) = via.members()
        {
            ids.extend(list.into_iter().filter(|(_, n)| !n.is_empty()));
        }
        ids.get(&member_id).cloned()
    }

    /// The member's raft status and the name of the leader it knows.
    pub fn status(&self, name: &str) -> Result<(EtcdStatus, Option<String>), EtcdError> {
        let c = self.status_client(name)?;
        let s = c.status().map_err(|e| EtcdError::Call {
            name: name.to_string(),
            detail: e.to_string(),
        })?;
        let leader = self.member_name(&c, s.leader);
        Ok((s, leader))
    }

    /// Wait until a member says it is the leader; its name.
    pub fn wait_for_leader(&self, timeout: Duration) -> Result<String, EtcdError> {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            for name in self.names() {
                if let Ok((s, _)) = self.status(&name)
                    && s.leader != 0
                    && s.leader == s.member_id
                {
                    return Ok(name);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(EtcdError::NoLeader(timeout))
    }

    /// SIGTERM every member (SIGKILL after a grace period).
    pub fn stop_all(&mut self) {
        for (id, mut p) in std::mem::take(&mut self.procs) {
            p.terminate(Duration::from_secs(3));
            tracing::debug!(id, "stopped etcd");
        }
        if let Some(d) = self.disks.as_mut() {
            d.stop_all();
        }
    }

    /// Stop every member and remove the network now (what Drop does).
    pub fn teardown(&mut self) -> Vec<String> {
        self.procs.clear();
        if let Some(d) = self.disks.as_mut() {
            d.stop_all();
        }
        self.network
            .as_ref()
            .map(|n| n.teardown())
            .unwrap_or_default()
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        self.teardown();
    }
}
