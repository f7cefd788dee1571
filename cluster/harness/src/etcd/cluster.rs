//! [`EtcdCluster`]: `n` etcd members named `1..=n`, each a process on two
//! 127.0.0.1 ports (client, peer) or in its own network namespace (ports
//! 2379/2380 on its namespace address, started as `ip netns exec <ns> env
//! <run marker, faketime vars> etcd ...`, both exec in place so the pid is
//! etcd's). Run folder: `<run>/nodes/<name>/{data,node.log}`. Dropping the
//! cluster kills and reaps every member, then (namespaces) removes the
//! network. With disk faults each member's data directory is a diskfs mount
//! (see [`crate::disk`]), unmounted after the members stop.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use faultline_raft::NodeId;

use super::client::{EtcdClient, EtcdStatus};
use super::error::EtcdError;
use crate::netns::Network;
use crate::procs::{Endpoint, GroupOptions, Launch, ProcessGroup};
use std::sync::Arc;

/// Client and peer ports of a member in a namespace.
const NS_CLIENT_PORT: u16 = 2379;
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

/// The environment variable that picks the etcd binary (e.g.
/// `/opt/faultline/etcd-3.5.1/etcd`, which `scripts/setup.sh` installs for
/// `--bug unsafe-no-fsync`).
pub const ETCD_ENV: &str = "FAULTLINE_ETCD";

/// `$FAULTLINE_ETCD`, else `/usr/bin/etcd`, else `etcd` on PATH.
pub fn find_etcd() -> Result<PathBuf, EtcdError> {
    if let Some(p) = std::env::var_os(ETCD_ENV) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(EtcdError::EnvMissing(p))
        };
    }
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

/// A member's client URL (its first port).
fn client_url(e: &Endpoint) -> String {
    format!("http://{}:{}", e.ip, e.ports[0])
}

/// A member's peer URL (its second port).
fn peer_url(e: &Endpoint) -> String {
    format!("http://{}:{}", e.ip, e.ports[1])
}

/// A running etcd cluster: its members are a [`ProcessGroup`] with two
/// ports each (client, peer).
pub struct EtcdCluster {
    etcd: PathBuf,
    opts: EtcdOptions,
    token: String,
    group: ProcessGroup,
    status_clients: BTreeMap<NodeId, EtcdClient>,
    /// etcd member ids to names, learnt from the first member list.
    ids: Mutex<BTreeMap<u64, String>>,
    /// The members' diskfs servers, with disk faults.
    disks: Option<crate::disk::DiskServers>,
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
        let group = ProcessGroup::new(&GroupOptions {
            members: opts.members,
            ports: 2,
            netns: opts.netns,
            base_port: NS_CLIENT_PORT,
            faketime: opts.faketime,
        })?;
        let status_clients = group
            .endpoints()
            .iter()
            .map(|(&id, e)| (id, EtcdClient::new(&client_url(e), STATUS_TIMEOUT)))
            .collect();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let ids: Vec<NodeId> = group.endpoints().keys().copied().collect();
        let mut cluster = EtcdCluster {
            etcd,
            opts,
            token: format!("faultline-{}-{stamp}", std::process::id()),
            group,
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
        self.group.names()
    }

    /// Each member's client URL, by name.
    pub fn client_urls(&self) -> BTreeMap<String, String> {
        self.group
            .endpoints()
            .iter()
            .map(|(id, e)| (id.to_string(), client_url(e)))
            .collect()
    }

    /// The namespace network (partitions, loss, clocks), if any.
    pub fn network(&self) -> Option<Arc<Network>> {
        self.group.network()
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
        self.group.pids()
    }

    /// The etcd command of member `id`.
    fn launch(&self, id: NodeId) -> Result<Launch, EtcdError> {
        let endpoints = self.group.endpoints();
        let m = endpoints
            .get(&id)
            .ok_or_else(|| EtcdError::UnknownMember(id.to_string()))?;
        let cluster = endpoints
            .iter()
            .map(|(id, e)| format!("{id}={}", peer_url(e)))
            .collect::<Vec<_>>()
            .join(",");
        let dir = self.member_dir(&id.to_string());
        let args = vec![
            format!("--name={id}"),
            format!("--data-dir={}", dir.join("data").display()),
            format!("--listen-client-urls={}", client_url(m)),
            format!("--advertise-client-urls={}", client_url(m)),
            format!("--listen-peer-urls={}", peer_url(m)),
            format!("--initial-advertise-peer-urls={}", peer_url(m)),
            format!("--initial-cluster={cluster}"),
            "--initial-cluster-state=new".to_string(),
            format!("--initial-cluster-token={}", self.token),
            "--heartbeat-interval=100".to_string(),
            "--election-timeout=1000".to_string(),
            "--logger=zap".to_string(),
            "--log-outputs=stderr".to_string(),
        ];
        let args = args
            .into_iter()
            .chain(self.opts.extra_args.iter().cloned())
            .collect();
        Ok(Launch {
            program: self.etcd.clone(),
            args,
            env: Vec::new(),
            cwd: None,
            log: dir.join("node.log"),
        })
    }

    fn spawn(&mut self, id: NodeId) -> Result<(), EtcdError> {
        if let Some(d) = self.disks.as_mut() {
            let dir = self.opts.run_dir.join("nodes").join(id.to_string());
            std::fs::create_dir_all(&dir).map_err(|source| EtcdError::Io {
                op: "create",
                path: dir.clone(),
                source,
            })?;
            d.ensure(id, &dir, &dir.join("data"))
                .map_err(|e| EtcdError::Call {
                    name: id.to_string(),
                    detail: e.to_string(),
                })?;
        }
        let launch = self.launch(id)?;
        let pid = self.group.spawn(id, &launch)?;
        tracing::debug!(id, pid, "started etcd");
        Ok(())
    }

    /// Whether the member's process is alive (paused counts).
    pub fn is_running(&mut self, name: &str) -> bool {
        self.group.is_running(name)
    }

    /// SIGKILL the member and reap it (its data stays).
    pub fn kill(&mut self, name: &str) -> Result<(), EtcdError> {
        Ok(self.group.kill(name)?)
    }

    /// Start a killed (or exited) member again on its data.
    pub fn restart(&mut self, name: &str) -> Result<(), EtcdError> {
        let id = self.group.forget_exited(name)?;
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

    /// `sync(1)` on every member's disk (with disk faults; else nothing).
    pub fn sync_disks(&self) -> Result<(), EtcdError> {
        match &self.disks {
            Some(d) => d.sync_all().map_err(|e| EtcdError::Call {
                name: "all members".to_string(),
                detail: e.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// The pid of member `name`'s diskfs server (with disk faults).
    pub fn disk_pid(&self, name: &str) -> Option<u32> {
        let id = name_id(name).ok()?;
        self.disks.as_ref().and_then(|d| d.pid(id))
    }

    pub fn pause(&mut self, name: &str) -> Result<(), EtcdError> {
        Ok(self.group.pause(name)?)
    }

    pub fn resume(&mut self, name: &str) -> Result<(), EtcdError> {
        Ok(self.group.resume(name)?)
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
        self.group.stop_all(Duration::from_secs(3));
        if let Some(d) = self.disks.as_mut() {
            d.stop_all();
        }
    }

    /// Stop every member and remove the network now (what Drop does).
    pub fn teardown(&mut self) -> Vec<String> {
        let problems = self.group.teardown();
        if let Some(d) = self.disks.as_mut() {
            d.stop_all();
        }
        problems
    }
}
