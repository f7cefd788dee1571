//! [`SshHarness`]: one kvnode group on the hosts of a hosts file, each
//! member placed by its slot ([`super::placement`]: slot `k` on host
//! `(k-1) mod H`, port `7400 + k - 1`; a single group's member `i` is slot
//! `i`). The kvnode binary is copied to each host once (cached by hash);
//! each member runs detached (`setsid`, under its own group id through
//! `setpriv`, output to its log, pid file) in `<dir>/runs/<run>/nodes/<name>/`
//! with the run marker and libfaketime in its environment, listening on
//! `0.0.0.0:<port>` and known to its peers and to the runner by the host's
//! address. Kill, pause and resume are signals by pid over the host's
//! session; status and clients go straight from the runner to the nodes
//! over TCP. Logs are copied back to `<run>/nodes/<id>/node.log` when the
//! group stops (and on demand). Dropping the harness tears the run down on
//! every host, unless the run is shared (a sharded deployment's groups:
//! the deployment tears it down).

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_kvnode::client::{ClientOptions, KvClient};
use faultline_kvnode::node::NodeStatus;
use faultline_raft::NodeId;

use super::cluster::SshCluster;
use super::error::SshError;
use super::network::SshNetwork;
use super::placement::{Place, member_gid};
use super::remote::quote;
use crate::error::HarnessError;
use crate::locate::find_kvnode;
use crate::netns::RUN_ENV;

/// How to start a group on remote hosts.
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// Number of members (ids 1..=nodes).
    pub nodes: usize,
    /// Each member's slot and name; a member not listed is slot `id`,
    /// named `id` (a single group).
    pub places: BTreeMap<NodeId, Place>,
    /// Tear the run down on the hosts when the harness goes (a single
    /// group); false when the run is shared by several harnesses.
    pub owns_run: bool,
    /// The local run folder (logs are copied there).
    pub run_dir: PathBuf,
    /// The kvnode binary to copy (default: [`find_kvnode`]).
    pub kvnode: Option<PathBuf>,
    pub bugs: Vec<String>,
    pub extra_args: Vec<String>,
    pub group: u64,
    /// Let libfaketime fake the monotonic clock too.
    pub fake_monotonic: bool,
}

impl SshOptions {
    /// `nodes` members of one group, member `i` in slot `i`, owning the run.
    pub fn group(nodes: usize, run_dir: impl Into<PathBuf>) -> SshOptions {
        SshOptions {
            nodes,
            places: BTreeMap::new(),
            owns_run: true,
            run_dir: run_dir.into(),
            kvnode: None,
            bugs: Vec::new(),
            extra_args: Vec::new(),
            group: 0,
            fake_monotonic: false,
        }
    }

    /// Member `id`'s place.
    pub fn place(&self, id: NodeId) -> Place {
        self.places
            .get(&id)
            .cloned()
            .unwrap_or_else(|| Place::new(id, id.to_string()))
    }

    /// Every member's place, by id.
    pub fn all_places(&self) -> Vec<(NodeId, Place)> {
        (1..=self.nodes as NodeId)
            .map(|id| (id, self.place(id)))
            .collect()
    }
}

struct Member {
    host: usize,
    place: Place,
    addr: SocketAddr,
    pid: Option<u32>,
}

/// A kvnode group on remote hosts.
pub struct SshHarness {
    cluster: Arc<SshCluster>,
    opts: SshOptions,
    /// The kvnode binary on each host.
    binaries: BTreeMap<usize, String>,
    members: BTreeMap<NodeId, Member>,
    node_args: BTreeMap<NodeId, Vec<String>>,
    status_client: KvClient,
    network: Arc<SshNetwork>,
    torn_down: bool,
    /// `stop_all` ran (the logs are here).
    stopped: bool,
}

fn ssh(e: SshError) -> HarnessError {
    HarnessError::Ssh(e)
}

/// The address a member is reached at (the host's address, resolved
/// here, and the member's port).
pub fn node_addr(address: &str, port: u16) -> Result<SocketAddr, SshError> {
    (address, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.find(SocketAddr::is_ipv4).or_else(|| a.next()))
        .ok_or_else(|| SshError::Local(format!("cannot resolve the host address {address:?}")))
}

impl SshHarness {
    /// Copy kvnode to the hosts and start every member on the connected
    /// `cluster`, with a network control of its own. On failure what
    /// started is stopped (the cluster's teardown removes the rest).
    pub fn start(cluster: Arc<SshCluster>, opts: SshOptions) -> Result<SshHarness, HarnessError> {
        let places: Vec<Place> = opts.all_places().into_iter().map(|(_, p)| p).collect();
        let network = Arc::new(SshNetwork::place(cluster.clone(), &places).map_err(ssh)?);
        Self::start_on(cluster, network, opts)
    }

    /// [`SshHarness::start`] on a network control shared with other
    /// groups (it must know this group's members by their place names).
    pub fn start_on(
        cluster: Arc<SshCluster>,
        network: Arc<SshNetwork>,
        opts: SshOptions,
    ) -> Result<SshHarness, HarnessError> {
        let hosts = cluster.hosts().len();
        if opts.nodes == 0 {
            return Err(ssh(SshError::Local("a group of 0 nodes".into())));
        }
        let kvnode = match &opts.kvnode {
            Some(p) => p.clone(),
            None => find_kvnode()?,
        };
        let mut members = BTreeMap::new();
        let mut binaries = BTreeMap::new();
        for (id, place) in opts.all_places() {
            let host = place.host(hosts);
            let addr = node_addr(&cluster.hosts()[host].address, place.port()).map_err(ssh)?;
            binaries.insert(
                host,
                cluster
                    .upload_cached(host, &kvnode, "kvnode")
                    .map_err(ssh)?,
            );
            members.insert(
                id,
                Member {
                    host,
                    place,
                    addr,
                    pid: None,
                },
            );
        }
        let status_client = KvClient::new(
            faultline_kvnode::client::fresh_client_id(),
            &members
                .iter()
                .map(|(&id, m)| (id, m.addr.to_string()))
                .collect(),
            ClientOptions::default(),
        );
        let mut h = SshHarness {
            cluster,
            opts,
            binaries,
            members,
            node_args: BTreeMap::new(),
            status_client,
            network,
            torn_down: false,
            stopped: false,
        };
        for id in h.node_ids_vec() {
            h.spawn(id)?;
        }
        Ok(h)
    }

    fn node_ids_vec(&self) -> Vec<NodeId> {
        self.members.keys().copied().collect()
    }

    /// The network control of the hosts (partitions, loss, clocks).
    pub fn network(&self) -> Arc<SshNetwork> {
        self.network.clone()
    }

    /// The hosts' session and run.
    pub fn cluster(&self) -> Arc<SshCluster> {
        self.cluster.clone()
    }

    fn member(&self, id: NodeId) -> Result<&Member, HarnessError> {
        self.members.get(&id).ok_or(HarnessError::UnknownNode(id))
    }

    /// Member `id`'s folder on its host.
    fn remote_dir(&self, id: NodeId) -> Result<String, HarnessError> {
        let m = self.member(id)?;
        Ok(format!(
            "{}/nodes/{}",
            self.cluster.run_dir(m.host),
            m.place.name
        ))
    }

    /// The folder of one member here (`<run>/nodes/<id>`: its copied log).
    pub fn node_dir(&self, id: NodeId) -> PathBuf {
        self.opts.run_dir.join("nodes").join(id.to_string())
    }

    /// Member `id`'s data directory here: none — its data lives on its host
    /// (and goes with the run), so this local path never exists.
    pub fn data_dir(&self, id: NodeId) -> PathBuf {
        self.node_dir(id).join("data")
    }

    /// Extra flags for one member from its next (re)start on.
    pub fn set_node_args(&mut self, id: NodeId, args: Vec<String>) {
        self.node_args.insert(id, args);
    }

    fn peers_spec(&self) -> String {
        self.members
            .iter()
            .map(|(id, m)| format!("{id}={}", m.addr))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The script that starts member `id` detached and prints its pid.
    fn start_script(&self, id: NodeId) -> Result<String, HarnessError> {
        let m = self.member(id)?;
        let dir = self.remote_dir(id)?;
        let mut env = vec![format!("{RUN_ENV}={}", self.cluster.run_id())];
        let clock = clock_file(&self.cluster, m.host, &m.place.name);
        let faketime = self.cluster.clock_env(m.host, self.opts.fake_monotonic);
        if let Some(c) = &faketime {
            env.extend(c.vars(std::path::Path::new(&clock)));
        }
        let mut args = vec![
            self.binaries[&m.host].clone(),
            "--id".into(),
            id.to_string(),
            "--group".into(),
            self.opts.group.to_string(),
            "--peers".into(),
            self.peers_spec(),
            "--listen".into(),
            format!("0.0.0.0:{}", m.addr.port()),
            "--data".into(),
            format!("{dir}/data"),
        ];
        for bug in &self.opts.bugs {
            args.extend(["--bug".into(), bug.clone()]);
        }
        args.extend(self.opts.extra_args.iter().cloned());
        args.extend(self.node_args.get(&id).into_iter().flatten().cloned());
        let line = |v: &[String]| v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(" ");
        let qd = quote(&dir);
        let clock_init = if faketime.is_some() {
            let q = quote(&clock);
            format!("[ -f {q} ] || printf '+0.000\\n' > {q}; ")
        } else {
            String::new()
        };
        // Its own group id: what the partition rules match it by.
        let setpriv = if self.cluster.has_setpriv(m.host) {
            format!(
                "setpriv --regid {} --clear-groups ",
                member_gid(self.cluster.run_id(), m.place.slot)
            )
        } else {
            String::new()
        };
        Ok(format!(
            "set -e; mkdir -p {qd}/data; {clock_init}cd {qd}; \
             setsid {setpriv}env {env} {cmd} >> {qd}/node.log 2>&1 < /dev/null & \
             echo $! > {qd}/pid; echo $!",
            env = line(&env),
            cmd = line(&args),
        ))
    }

    fn spawn(&mut self, id: NodeId) -> Result<(), HarnessError> {
        let host = self.member(id)?.host;
        let script = self.start_script(id)?;
        let out = self
            .cluster
            .run(host, &format!("start node {id}"), &script)
            .map_err(ssh)?;
        let pid: u32 = out.trim().parse().map_err(|_| {
            ssh(SshError::Local(format!(
                "starting node {id}: expected its pid, got {:?}",
                out.trim()
            )))
        })?;
        tracing::debug!(id, pid, host, "started kvnode over SSH");
        if let Some(m) = self.members.get_mut(&id) {
            m.pid = Some(pid);
        }
        Ok(())
    }

    /// `true` while `pid` is alive on its host (not a zombie).
    fn alive_test(pid: u32) -> String {
        format!(
            "[ -e /proc/{pid} ] && [ \"$(awk '{{print $3}}' /proc/{pid}/stat 2>/dev/null)\" != Z ]"
        )
    }

    /// Send `signal` to member `id`; `NotRunning` when it is gone.
    fn signal(&mut self, id: NodeId, signal: &str) -> Result<u32, HarnessError> {
        let m = self.member(id)?;
        let (host, pid) = (m.host, m.pid.ok_or(HarnessError::NotRunning(id))?);
        let out = self
            .cluster
            .run_quick(
                host,
                &format!("kill -{signal} node {id}"),
                &format!(
                    "if {alive} && kill -{signal} {pid} 2>/dev/null; then echo ok; fi",
                    alive = Self::alive_test(pid)
                ),
            )
            .map_err(ssh)?;
        if out.trim() == "ok" {
            Ok(pid)
        } else {
            Err(HarnessError::NotRunning(id))
        }
    }

    /// Wait up to `timeout` for member `id` to exit on its own (`None`:
    /// still running; the exit status is not known remotely, so an exit
    /// reads as success).
    pub fn wait_exit(
        &mut self,
        id: NodeId,
        timeout: Duration,
    ) -> Result<Option<std::process::ExitStatus>, HarnessError> {
        let until = Instant::now() + timeout;
        loop {
            if !self.is_running_now(id)? {
                use std::os::unix::process::ExitStatusExt;
                return Ok(Some(std::process::ExitStatus::from_raw(0)));
            }
            if Instant::now() >= until {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn is_running_now(&self, id: NodeId) -> Result<bool, HarnessError> {
        let m = self.member(id)?;
        let Some(pid) = m.pid else {
            return Ok(false);
        };
        let out = self
            .cluster
            .run_quick(
                m.host,
                "check a node",
                &format!("if {}; then echo yes; fi", Self::alive_test(pid)),
            )
            .map_err(ssh)?;
        Ok(out.trim() == "yes")
    }

    /// Member `id`'s log so far (copied from its host).
    pub fn read_log(&self, id: NodeId) -> String {
        let local = self.node_dir(id).join("node.log");
        if self.fetch_log(id).is_ok() {
            std::fs::read_to_string(local).unwrap_or_default()
        } else {
            String::new()
        }
    }

    fn fetch_log(&self, id: NodeId) -> Result<(), HarnessError> {
        let m = self.member(id)?;
        let remote = format!("{}/node.log", self.remote_dir(id)?);
        self.cluster
            .fetch(m.host, &remote, &self.node_dir(id).join("node.log"))
            .map_err(ssh)
    }

    /// Copy every member's log here (what stopping the group does).
    pub fn fetch_logs(&self) -> Vec<String> {
        self.node_ids_vec()
            .into_iter()
            .filter_map(|id| self.fetch_log(id).err().map(|e| e.to_string()))
            .collect()
    }

    /// Stop the members (SIGTERM, SIGKILL after `grace`), one script per
    /// host.
    fn terminate_all(&mut self, grace: Duration) -> Result<(), HarnessError> {
        let mut by_host: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for m in self.members.values_mut() {
            if let Some(pid) = m.pid.take() {
                by_host.entry(m.host).or_default().push(pid);
            }
        }
        let steps = (grace.as_millis() / 20).max(1);
        let mut first_err = None;
        for (host, pids) in by_host {
            let list = pids
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            let alive_any = pids
                .iter()
                .map(|&p| format!("( {} )", Self::alive_test(p)))
                .collect::<Vec<_>>()
                .join(" || ");
            let script = format!(
                "kill -TERM {list} 2>/dev/null; kill -CONT {list} 2>/dev/null; i=0; \
                 while {{ {alive_any}; }} && [ $i -lt {steps} ]; do sleep 0.02; i=$((i+1)); done; \
                 kill -KILL {list} 2>/dev/null; true"
            );
            let r = self.cluster.run_within(
                host,
                "stop the nodes",
                &script,
                grace + Duration::from_secs(30),
            );
            if let Err(e) = r {
                first_err.get_or_insert(ssh(e));
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// Membership changes need a spare host per added member; not built yet.
fn not_over_ssh() -> HarnessError {
    HarnessError::Membership(
        "adding or removing members is not supported over SSH (--hosts) yet; drop --nemesis membership"
            .to_string(),
    )
}

impl crate::Harness for SshHarness {
    fn node_ids(&self) -> Vec<NodeId> {
        self.node_ids_vec()
    }

    fn addresses(&self) -> BTreeMap<NodeId, String> {
        self.members
            .iter()
            .map(|(&id, m)| (id, m.addr.to_string()))
            .collect()
    }

    /// The pid on its host (not a process of this machine).
    fn pid(&self, id: NodeId) -> Option<u32> {
        self.members.get(&id).and_then(|m| m.pid)
    }

    fn is_running(&mut self, id: NodeId) -> bool {
        self.is_running_now(id).unwrap_or(false)
    }

    fn kill(&mut self, id: NodeId) -> Result<(), HarnessError> {
        let m = self.member(id)?;
        let (host, pid) = (m.host, m.pid.ok_or(HarnessError::NotRunning(id))?);
        // One round trip: SIGKILL, then wait (bounded) until it is gone, so
        // a restart can bind its port.
        let alive = Self::alive_test(pid);
        let out = self
            .cluster
            .run_quick(
                host,
                &format!("kill -KILL node {id}"),
                &format!(
                    "if {alive} && kill -KILL {pid} 2>/dev/null; then echo ok; \
                     i=0; while {alive} && [ $i -lt 250 ]; do sleep 0.02; i=$((i+1)); done; fi"
                ),
            )
            .map_err(ssh)?;
        if out.trim() != "ok" {
            return Err(HarnessError::NotRunning(id));
        }
        if let Some(m) = self.members.get_mut(&id) {
            m.pid = None;
        }
        Ok(())
    }

    fn restart(&mut self, id: NodeId) -> Result<(), HarnessError> {
        if self.is_running_now(id)? {
            return Err(HarnessError::AlreadyRunning(id));
        }
        self.spawn(id)
    }

    fn pause(&mut self, id: NodeId) -> Result<(), HarnessError> {
        self.signal(id, "STOP").map(drop)
    }

    fn resume(&mut self, id: NodeId) -> Result<(), HarnessError> {
        self.signal(id, "CONT").map(drop)
    }

    async fn status(&self, id: NodeId, timeout: Duration) -> Result<NodeStatus, HarnessError> {
        self.member(id)?;
        self.status_client
            .status(id, timeout)
            .await
            .map_err(|e| HarnessError::Status {
                id,
                detail: e.to_string(),
            })
    }

    fn log_paths(&self) -> BTreeMap<NodeId, PathBuf> {
        self.members
            .keys()
            .map(|&id| (id, self.node_dir(id).join("node.log")))
            .collect()
    }

    fn start_new_member(&mut self) -> Result<NodeId, HarnessError> {
        Err(not_over_ssh())
    }

    async fn add_member(
        &self,
        _id: NodeId,
        _deadline: Duration,
    ) -> Result<faultline_kvnode::client::Committed, HarnessError> {
        Err(not_over_ssh())
    }

    async fn remove_member(
        &self,
        _id: NodeId,
        _deadline: Duration,
    ) -> Result<faultline_kvnode::client::Committed, HarnessError> {
        Err(not_over_ssh())
    }

    fn stop_all(&mut self) -> Result<(), HarnessError> {
        let stopped = self.terminate_all(Duration::from_secs(3));
        self.stopped = true;
        for p in self.fetch_logs() {
            tracing::warn!(problem = %p, "copying a node log");
        }
        stopped
    }
}

/// The libfaketime control file of the member named `name` on `host`.
pub fn clock_file(cluster: &SshCluster, host: usize, name: &str) -> String {
    format!("{}/clock-{name}", cluster.run_dir(host))
}

impl SshHarness {
    /// Stop every member now, copy the logs (unless `stop_all` did) and,
    /// when the harness owns the run, remove it from every host (what Drop
    /// does). Idempotent; the problems left.
    pub fn teardown(&mut self) -> Vec<String> {
        if std::mem::replace(&mut self.torn_down, true) {
            return Vec::new();
        }
        let mut problems = Vec::new();
        if let Err(e) = self.terminate_all(Duration::ZERO) {
            problems.push(e.to_string());
        }
        if !self.stopped {
            problems.extend(self.fetch_logs());
        }
        if self.opts.owns_run {
            problems.extend(self.cluster.teardown());
        }
        problems
    }
}

impl Drop for SshHarness {
    fn drop(&mut self) {
        self.teardown();
    }
}
