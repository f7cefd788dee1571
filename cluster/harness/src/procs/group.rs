//! [`ProcessGroup`]: `n` member processes named `1..=n`, each with an
//! address ([`Endpoint`]: an IP and some ports) that is either on 127.0.0.1
//! (free ports, distinct per member) or in the member's own network
//! namespace (the same fixed ports on every member's namespace address).
//! The group only launches and signals; what a member runs is the caller's
//! [`Launch`]. Dropping the group kills and reaps every member, then
//! (namespaces) removes the network.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_raft::NodeId;
use nix::sys::signal::Signal;

use super::error::ProcessError;
use super::process::MemberProcess;
use crate::netns::cmd::{ip, tool};
use crate::netns::{Network, NetworkOptions};

/// How to place a group's members.
#[derive(Debug, Clone)]
pub struct GroupOptions {
    pub members: usize,
    /// Ports per member (at least 1).
    pub ports: usize,
    /// One network namespace per member (needs root); else loopback.
    pub netns: bool,
    /// In namespaces: the members' ports are `base_port + i`.
    pub base_port: u16,
    /// In namespaces: start members under libfaketime.
    pub faketime: bool,
}

/// One member's address: an IP and its ports (the first is its main one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub ports: Vec<u16>,
}

impl Endpoint {
    /// `ip:port` of the main port.
    pub fn addr(&self) -> String {
        format!("{}:{}", self.ip, self.ports[0])
    }
}

/// What to run as one member.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Extra environment (`NAME`, value).
    pub env: Vec<(String, String)>,
    /// The working directory (default: the caller's).
    pub cwd: Option<PathBuf>,
    /// stdout and stderr are appended here.
    pub log: PathBuf,
}

/// A group of member processes and their network.
pub struct ProcessGroup {
    endpoints: BTreeMap<NodeId, Endpoint>,
    procs: BTreeMap<NodeId, MemberProcess>,
    network: Option<Arc<Network>>,
    /// `ip` and `env`, in namespace mode.
    tools: Option<(PathBuf, PathBuf)>,
}

/// `n` distinct free ports on 127.0.0.1 (all bound at once, then freed).
pub fn free_ports(n: usize) -> Result<Vec<u16>, ProcessError> {
    let ls = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(ProcessError::io("bind", Path::new("127.0.0.1:0")))?;
    ls.iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(ProcessError::io("bind", Path::new("127.0.0.1:0")))
}

fn name_id(name: &str) -> Result<NodeId, ProcessError> {
    name.parse()
        .map_err(|_| ProcessError::UnknownMember(name.to_string()))
}

impl ProcessGroup {
    /// Place the members (building the namespace network, or choosing
    /// loopback ports); nothing is started yet.
    pub fn new(opts: &GroupOptions) -> Result<ProcessGroup, ProcessError> {
        let ports = opts.ports.max(1);
        let ids: Vec<NodeId> = (1..=opts.members as NodeId).collect();
        let (network, tools, endpoints) = if opts.netns {
            let tools = (ip()?, tool("env", "coreutils")?);
            let net = Network::setup(&NetworkOptions {
                nodes: ids.clone(),
                faketime: opts.faketime,
                fake_monotonic: false,
            })?;
            let mut endpoints = BTreeMap::new();
            for &id in &ids {
                let e = Endpoint {
                    ip: IpAddr::V4(net.node(id)?.ip),
                    ports: (0..ports)
                        .map(|i| opts.base_port.saturating_add(i as u16))
                        .collect(),
                };
                endpoints.insert(id, e);
            }
            (Some(Arc::new(net)), Some(tools), endpoints)
        } else {
            let free = free_ports(ids.len() * ports)?;
            let endpoints = ids
                .iter()
                .enumerate()
                .map(|(i, &id)| {
                    let e = Endpoint {
                        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                        ports: free[i * ports..(i + 1) * ports].to_vec(),
                    };
                    (id, e)
                })
                .collect();
            (None, None, endpoints)
        };
        Ok(ProcessGroup {
            endpoints,
            procs: BTreeMap::new(),
            network,
            tools,
        })
    }

    /// Every member's address, by id.
    pub fn endpoints(&self) -> &BTreeMap<NodeId, Endpoint> {
        &self.endpoints
    }

    /// The member names (`"1"`, `"2"`, ...), in order.
    pub fn names(&self) -> Vec<String> {
        self.endpoints.keys().map(|id| id.to_string()).collect()
    }

    /// The namespace network (partitions, loss, clocks), if any.
    pub fn network(&self) -> Option<Arc<Network>> {
        self.network.clone()
    }

    /// The pids of the running members, by name.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.procs
            .iter()
            .map(|(id, p)| (id.to_string(), p.pid()))
            .collect()
    }

    /// Start member `id` running `launch` (inside its namespace, under the
    /// run marker and faketime, in namespace mode). In namespace mode this
    /// waits (at most 2 s) until `ip` and `env` have exec'd into the
    /// program, so the pid's command name is the program's when recorded.
    pub fn spawn(&mut self, id: NodeId, launch: &Launch) -> Result<u32, ProcessError> {
        if !self.endpoints.contains_key(&id) {
            return Err(ProcessError::UnknownMember(id.to_string()));
        }
        if let Some(dir) = launch.log.parent() {
            std::fs::create_dir_all(dir).map_err(ProcessError::io("create", dir))?;
        }
        let launch = match (&self.network, &self.tools) {
            (Some(net), Some((ip, env))) => {
                let mut args = vec![
                    "netns".to_string(),
                    "exec".into(),
                    net.node(id)?.namespace.clone(),
                    env.display().to_string(),
                ];
                args.extend(net.node_env(id)?);
                args.extend(launch.env.iter().map(|(k, v)| format!("{k}={v}")));
                args.push(launch.program.display().to_string());
                args.extend(launch.args.iter().cloned());
                Launch {
                    program: ip.clone(),
                    args,
                    env: Vec::new(),
                    cwd: launch.cwd.clone(),
                    log: launch.log.clone(),
                }
            }
            _ => launch.clone(),
        };
        let p = MemberProcess::spawn(&id.to_string(), &launch)?;
        let pid = p.pid();
        if let Some(net) = &self.network {
            if let Err(e) = net.record_pid(pid) {
                tracing::warn!(id, error = %e, "cannot record a member pid");
            }
            let until = Instant::now() + Duration::from_secs(2);
            while Instant::now() < until && matches!(p.comm().as_deref(), Some("ip") | Some("env"))
            {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        tracing::debug!(id, pid, program = %launch.program.display(), "started a member");
        self.procs.insert(id, p);
        Ok(pid)
    }

    fn process(&mut self, name: &str) -> Result<&mut MemberProcess, ProcessError> {
        let id = name_id(name)?;
        if !self.endpoints.contains_key(&id) {
            return Err(ProcessError::UnknownMember(name.to_string()));
        }
        self.procs
            .get_mut(&id)
            .ok_or_else(|| ProcessError::NotRunning(name.to_string()))
    }

    /// Whether the member's process is alive (paused counts).
    pub fn is_running(&mut self, name: &str) -> bool {
        self.process(name).is_ok_and(|p| !p.exited())
    }

    /// SIGKILL the member and reap it (its data stays).
    pub fn kill(&mut self, name: &str) -> Result<(), ProcessError> {
        self.process(name)?.kill();
        self.procs.remove(&name_id(name)?);
        Ok(())
    }

    /// Forget a member that is not running (before a restart); an error
    /// when it still runs.
    pub fn forget_exited(&mut self, name: &str) -> Result<NodeId, ProcessError> {
        let id = name_id(name)?;
        if !self.endpoints.contains_key(&id) {
            return Err(ProcessError::UnknownMember(name.to_string()));
        }
        if self.is_running(name) {
            return Err(ProcessError::AlreadyRunning(name.to_string()));
        }
        self.procs.remove(&id);
        Ok(id)
    }

    pub fn pause(&mut self, name: &str) -> Result<(), ProcessError> {
        self.process(name)?.signal(Signal::SIGSTOP)
    }

    pub fn resume(&mut self, name: &str) -> Result<(), ProcessError> {
        self.process(name)?.signal(Signal::SIGCONT)
    }

    /// SIGTERM every member (SIGKILL after `grace`).
    pub fn stop_all(&mut self, grace: Duration) {
        for (id, mut p) in std::mem::take(&mut self.procs) {
            p.terminate(grace);
            tracing::debug!(id, "stopped a member");
        }
    }

    /// Kill every member and remove the network now (what Drop does);
    /// the problems met removing the network.
    pub fn teardown(&mut self) -> Vec<String> {
        self.procs.clear();
        self.network
            .as_ref()
            .map(|n| n.teardown())
            .unwrap_or_default()
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.teardown();
    }
}
