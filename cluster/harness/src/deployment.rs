//! `ShardedDeployment`: a controller group plus N shard groups of real
//! kvnode processes (each group a harness in its own subfolder of the run
//! folder: `ctrler/`, `group-<gid>/`), with clients for both. On loopback by
//! default; with [`ShardedOptions::netns`] every member runs in its own
//! network namespace on ONE network shared by all groups (one bridge, one
//! run id, one leftovers record), so groups reach each other and the
//! controller, and every network fault (cut, loss, clock) addresses any
//! member of any group through [`ShardedDeployment::network`].
//!
//! Members are named by [`Member`]: `c<id>` for controller `id`,
//! `g<gid>n<id>` for member `id` of shard group `gid` (ids are each group's
//! own Raft ids, 1..=replicas). The shared network knows its nodes by these
//! names, so they are what its `NetControl` methods take. Network node ids
//! (the namespaces `fl-<run>-n<slot>` and addresses `.10+slot`) number every
//! member once: controllers `1..=C`, then member `id` of group `gid` is
//! `C + (gid-1)*R + id`.
//!
//! With [`ShardedOptions::ssh`] the members run on remote hosts instead
//! (`faultline run --hosts FILE --groups N`): every group is an
//! `SshHarness` on the one connected run, the member in network slot `k`
//! (the numbering above) on host `(k-1) mod H`, port `7400 + k - 1`
//! (`crate::ssh::placement`), and one `SshNetwork` knows every member by
//! its [`Member`] name.
//!
//! Dropping the deployment kills every process, then removes the network
//! (or the run on the hosts); a killed runner's leftovers go with
//! `faultline clean` as for one group.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use faultline_raft::NodeId;

use crate::netns::{Network, NetworkOptions};
use crate::ssh::{Place, SshCluster, SshHarness, SshNetwork, SshOptions};
use crate::{
    AnyHarness, Harness, HarnessError, LoopbackHarness, LoopbackOptions, NetnsHarness, NetnsOptions,
};
use faultline_kvnode::client::{ClientOptions, fresh_client_id};
use faultline_kvnode::shard::{CtrlerClient, CtrlerClientError, Gid, ShardClient};

/// How to start a sharded deployment.
#[derive(Debug, Clone)]
pub struct ShardedOptions {
    /// The run folder (created if missing).
    pub run_dir: PathBuf,
    /// Shard groups, gids 1..=groups. They are started, not joined.
    pub groups: usize,
    /// Members per shard group.
    pub replicas: usize,
    /// Members of the controller group.
    pub ctrler_replicas: usize,
    /// Number of shards.
    pub nshards: usize,
    /// The kvnode binary (default: `harness::find_kvnode`).
    pub kvnode: Option<PathBuf>,
    /// Planted bugs for the shard group members (`--bug NAME`).
    pub bugs: Vec<String>,
    /// Further kvnode flags for the shard group members.
    pub extra_args: Vec<String>,
    /// Run every member in its own network namespace on one shared network
    /// (needs root, iproute2, iptables and, with `faketime`, libfaketime);
    /// default off: loopback.
    pub netns: bool,
    /// In namespaces: start members under libfaketime (clock faults need
    /// it). Default on.
    pub faketime: bool,
    /// On remote hosts over SSH: the connected hosts (then `netns` is
    /// ignored). Default none.
    pub ssh: Option<Arc<SshCluster>>,
}

impl ShardedOptions {
    /// 1 controller group of 3 and `groups` groups of 3, 10 shards, loopback.
    pub fn new(groups: usize, run_dir: impl Into<PathBuf>) -> ShardedOptions {
        ShardedOptions {
            run_dir: run_dir.into(),
            groups,
            replicas: 3,
            ctrler_replicas: 3,
            nshards: faultline_kvnode::shard::DEFAULT_SHARDS,
            kvnode: None,
            bugs: Vec::new(),
            extra_args: Vec::new(),
            netns: false,
            faketime: true,
            ssh: None,
        }
    }
}

/// One member of a deployment: a controller or a shard group member, by
/// its group's own Raft id. Written (and parsed) `c<id>` / `g<gid>n<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Member {
    Ctrler(NodeId),
    Shard(Gid, NodeId),
}

impl Member {
    /// The shard group (`None` for a controller).
    pub fn gid(self) -> Option<Gid> {
        match self {
            Member::Ctrler(_) => None,
            Member::Shard(gid, _) => Some(gid),
        }
    }

    /// The member's id within its group (what its harness calls it).
    pub fn id(self) -> NodeId {
        match self {
            Member::Ctrler(id) | Member::Shard(_, id) => id,
        }
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Member::Ctrler(id) => write!(f, "c{id}"),
            Member::Shard(gid, id) => write!(f, "g{gid}n{id}"),
        }
    }
}

/// A member name that is neither `c<id>` nor `g<gid>n<id>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a member name (c<id> or g<gid>n<id>)")]
pub struct BadMemberName(pub String);

impl FromStr for Member {
    type Err = BadMemberName;
    fn from_str(s: &str) -> Result<Member, BadMemberName> {
        let bad = || BadMemberName(s.to_string());
        let num = |t: &str| -> Result<u64, BadMemberName> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse().map_err(|_| bad())
        };
        if let Some(id) = s.strip_prefix('c') {
            return Ok(Member::Ctrler(num(id)?));
        }
        let (gid, id) = s
            .strip_prefix('g')
            .and_then(|r| r.split_once('n'))
            .ok_or_else(bad)?;
        Ok(Member::Shard(num(gid)?, num(id)?))
    }
}

/// A running controller group and shard groups. The harnesses are boxed
/// (a `Box<AnyHarness>` is a `Harness` too) so the deployment stays small
/// where it is held by value.
pub struct ShardedDeployment {
    pub ctrlers: Box<AnyHarness>,
    pub groups: BTreeMap<Gid, Box<AnyHarness>>,
    nshards: usize,
    /// The network every member is on (namespaces mode only).
    network: Option<Arc<Network>>,
    /// Over SSH: the hosts' run and the network control of every member.
    ssh: Option<(Arc<SshCluster>, Arc<SshNetwork>)>,
}

impl ShardedDeployment {
    /// Start the controller group, then every shard group (on loopback, or
    /// in namespaces with [`ShardedOptions::netns`]; a namespace setup
    /// problem comes back as [`HarnessError::Netns`] with advice). Nothing
    /// is left behind on failure.
    pub fn start(opts: ShardedOptions) -> Result<ShardedDeployment, HarnessError> {
        let shards = opts.nshards.to_string();
        let (c, r) = (opts.ctrler_replicas as NodeId, opts.replicas as NodeId);
        let members: Vec<Member> = (1..=c)
            .map(Member::Ctrler)
            .chain(
                (1..=opts.groups as Gid).flat_map(|g| (1..=r).map(move |id| Member::Shard(g, id))),
            )
            .collect();
        let ssh = match &opts.ssh {
            Some(cluster) => {
                let places: Vec<Place> = members
                    .iter()
                    .map(|&m| Place::new(slot(m, c, r), m.to_string()))
                    .collect();
                let net = SshNetwork::place(cluster.clone(), &places)?;
                Some((cluster.clone(), Arc::new(net)))
            }
            None => None,
        };
        let network = if opts.netns && ssh.is_none() {
            let slots = c + opts.groups as NodeId * r;
            let mut net = Network::setup(&NetworkOptions {
                nodes: (1..=slots).collect(),
                faketime: opts.faketime,
                fake_monotonic: false,
            })?;
            let names = (1..=c)
                .map(Member::Ctrler)
                .chain(
                    (1..=opts.groups as Gid)
                        .flat_map(|g| (1..=r).map(move |id| Member::Shard(g, id))),
                )
                .map(|m| (slot(m, c, r), m.to_string()))
                .collect();
            net.set_names(names)?;
            Some(Arc::new(net))
        } else {
            None
        };
        let start_group = |gid: Option<Gid>,
                           dir: PathBuf,
                           n: NodeId,
                           bugs: Vec<String>,
                           extra: Vec<String>|
         -> Result<Box<AnyHarness>, HarnessError> {
            if let Some((cluster, net)) = &ssh {
                let mut o = SshOptions::group(n as usize, dir);
                o.owns_run = false;
                o.kvnode = opts.kvnode.clone();
                o.group = gid.unwrap_or(0);
                o.bugs = bugs;
                o.extra_args = extra;
                o.places = (1..=n)
                    .map(|id| {
                        let m = gid.map_or(Member::Ctrler(id), |g| Member::Shard(g, id));
                        (id, Place::new(slot(m, c, r), m.to_string()))
                    })
                    .collect();
                let h = SshHarness::start_on(cluster.clone(), net.clone(), o)?;
                return Ok(Box::new(AnyHarness::Ssh(h)));
            }
            match &network {
                None => {
                    let mut o = LoopbackOptions::new(n as usize, dir);
                    o.kvnode = opts.kvnode.clone();
                    o.group = gid.unwrap_or(0);
                    o.bugs = bugs;
                    o.extra_args = extra;
                    Ok(Box::new(AnyHarness::Loopback(LoopbackHarness::start(o)?)))
                }
                Some(net) => {
                    let mut o = NetnsOptions::new(n as usize, dir);
                    o.kvnode = opts.kvnode.clone();
                    o.group = gid.unwrap_or(0);
                    o.bugs = bugs;
                    o.extra_args = extra;
                    o.faketime = opts.faketime;
                    let slots = (1..=n)
                        .map(|id| {
                            let m = gid.map_or(Member::Ctrler(id), |g| Member::Shard(g, id));
                            (id, slot(m, c, r))
                        })
                        .collect();
                    let h = NetnsHarness::start_on(net.clone(), slots, o)?;
                    Ok(Box::new(AnyHarness::Netns(h)))
                }
            }
        };
        let ctrler_args = vec![
            "--role".into(),
            "ctrler".into(),
            "--shards".into(),
            shards.clone(),
        ];
        let ctrlers = start_group(
            None,
            opts.run_dir.join("ctrler"),
            c,
            Vec::new(),
            ctrler_args,
        )?;
        let ctrler_spec = ctrlers
            .addresses()
            .iter()
            .map(|(id, a)| format!("{id}={a}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut groups = BTreeMap::new();
        for gid in 1..=opts.groups as Gid {
            let extra = [
                "--role",
                "shardkv",
                "--shards",
                &shards,
                "--ctrlers",
                &ctrler_spec,
            ]
            .iter()
            .map(|s| s.to_string())
            .chain(opts.extra_args.iter().cloned())
            .collect();
            let dir = opts.run_dir.join(format!("group-{gid}"));
            groups.insert(
                gid,
                start_group(Some(gid), dir, r, opts.bugs.clone(), extra)?,
            );
        }
        if let Some(net) = &network {
            tracing::info!(run = %net.run_id(), members = members.len(), "sharded deployment in namespaces");
        }
        if let Some((cluster, _)) = &ssh {
            tracing::info!(run = %cluster.run_id(), members = members.len(), hosts = cluster.hosts().len(), "sharded deployment over SSH");
        }
        Ok(ShardedDeployment {
            ctrlers,
            groups,
            nshards: opts.nshards,
            network,
            ssh,
        })
    }

    /// `"ssh"`, `"netns"` or `"loopback"`.
    pub fn mode(&self) -> &'static str {
        if self.ssh.is_some() {
            "ssh"
        } else if self.network.is_some() {
            "netns"
        } else {
            "loopback"
        }
    }

    /// The network control of every member, named as [`Member`]s: the
    /// namespaces' network, or over SSH the hosts' rules and clocks
    /// (`None` on loopback).
    pub fn net_control(&self) -> Option<Arc<dyn faultline_workloads::NetControl>> {
        if let Some((_, net)) = &self.ssh {
            return Some(net.clone());
        }
        self.network
            .clone()
            .map(|n| n as Arc<dyn faultline_workloads::NetControl>)
    }

    /// The network shared by every member (namespaces mode; `None` on
    /// loopback). It implements the workloads' `NetControl` with nodes named
    /// as [`Member`]s (`c1`, `g2n3`); cuts, loss and clocks apply across all
    /// groups.
    pub fn network(&self) -> Option<Arc<Network>> {
        self.network.clone()
    }

    /// Every member: controllers, then each group's, in id order.
    pub fn members(&self) -> Vec<Member> {
        let ctrlers = self.ctrlers.node_ids().into_iter().map(Member::Ctrler);
        let shards = self.groups.iter().flat_map(|(&gid, h)| {
            h.node_ids()
                .into_iter()
                .map(move |id| Member::Shard(gid, id))
        });
        ctrlers.chain(shards).collect()
    }

    /// The harness of `member`'s group (`None`: no such group). Address the
    /// member in it by [`Member::id`].
    pub fn harness_of(&self, member: Member) -> Option<&AnyHarness> {
        match member.gid() {
            None => Some(&*self.ctrlers),
            Some(gid) => self.groups.get(&gid).map(|h| &**h),
        }
    }

    /// [`ShardedDeployment::harness_of`], mutable (kill, restart, pause, …).
    pub fn harness_of_mut(&mut self, member: Member) -> Option<&mut AnyHarness> {
        match member.gid() {
            None => Some(&mut *self.ctrlers),
            Some(gid) => self.groups.get_mut(&gid).map(|h| &mut **h),
        }
    }

    pub fn nshards(&self) -> usize {
        self.nshards
    }

    /// The controller members' addresses.
    pub fn ctrler_addresses(&self) -> BTreeMap<NodeId, String> {
        self.ctrlers.addresses()
    }

    /// Group `gid`'s server list, as Join wants it.
    pub fn servers(&self, gid: Gid) -> Vec<String> {
        self.groups
            .get(&gid)
            .map(|h| h.addresses().into_values().collect())
            .unwrap_or_default()
    }

    /// A controller client (Join / Leave / Move / Query).
    pub fn ctrler_client(&self, opts: ClientOptions) -> CtrlerClient {
        CtrlerClient::new(&self.ctrler_addresses(), opts)
    }

    /// A client of the sharded store.
    pub fn client(&self, opts: ClientOptions) -> ShardClient {
        ShardClient::new(fresh_client_id(), &self.ctrler_addresses(), opts)
    }

    /// Join groups `gids` (one configuration change each).
    pub async fn join(&self, gids: &[Gid]) -> Result<u64, CtrlerClientError> {
        let mut c = self.ctrler_client(ClientOptions::default());
        let mut num = 0;
        for &gid in gids {
            num = c.join(BTreeMap::from([(gid, self.servers(gid))])).await?;
        }
        Ok(num)
    }

    /// Wait until every member of every group in `gids` reports
    /// configuration `num` and, together, the groups serve every shard.
    pub async fn wait_config(&self, gids: &[Gid], num: u64, timeout: Duration) -> bool {
        let until = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < until {
            let mut served = 0;
            let mut all_at = true;
            for gid in gids {
                let h = &self.groups[gid];
                let leader = h.wait_for_leader(Duration::from_millis(500)).await.ok();
                for id in h.node_ids() {
                    match h.status(id, Duration::from_millis(300)).await {
                        Ok(s) if s.config_num == num => {
                            if Some(id) == leader {
                                served += s.shards.len();
                            }
                        }
                        _ => all_at = false,
                    }
                }
            }
            if all_at && served == self.nshards {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Stop every process.
    pub fn stop_all(&mut self) -> Result<(), HarnessError> {
        for h in self.groups.values_mut() {
            h.stop_all()?;
        }
        self.ctrlers.stop_all()
    }
}

/// The network node id of `m` (controllers first, then group by group).
fn slot(m: Member, ctrlers: NodeId, replicas: NodeId) -> NodeId {
    match m {
        Member::Ctrler(id) => id,
        Member::Shard(gid, id) => ctrlers + (gid - 1) * replicas + id,
    }
}

impl Drop for ShardedDeployment {
    fn drop(&mut self) {
        // Every process first (each harness's own), then the shared network.
        for h in self.groups.values_mut() {
            h.teardown();
        }
        self.ctrlers.teardown();
        if let Some(net) = &self.network {
            net.teardown();
        }
        if let Some((cluster, _)) = &self.ssh {
            cluster.teardown();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_round_trip_and_slots_are_distinct() {
        for m in [
            Member::Ctrler(3),
            Member::Shard(1, 2),
            Member::Shard(12, 10),
        ] {
            assert_eq!(m.to_string().parse::<Member>(), Ok(m));
        }
        assert_eq!(Member::Shard(2, 3).to_string(), "g2n3");
        for bad in ["", "c", "3", "g1", "g1n", "gn1", "cx", "g1n2x", "c-1"] {
            assert!(bad.parse::<Member>().is_err(), "{bad}");
        }
        let mut seen = std::collections::BTreeSet::new();
        for id in 1..=3 {
            assert!(seen.insert(slot(Member::Ctrler(id), 3, 5)));
        }
        for gid in 1..=4 {
            for id in 1..=5 {
                assert!(seen.insert(slot(Member::Shard(gid, id), 3, 5)));
            }
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            (1..=23).collect::<Vec<_>>()
        );
    }
}
