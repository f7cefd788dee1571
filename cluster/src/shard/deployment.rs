//! `ShardedDeployment`: a controller group plus N shard groups of real
//! kvnode processes on loopback (each a [`LoopbackHarness`] in its own
//! subfolder of the run folder: `ctrler/`, `group-<gid>/`), with clients
//! for both. Dropping it stops every process (each harness stops its own).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use faultline_raft::NodeId;

use super::config::Gid;
use super::ctrler_client::{CtrlerClient, CtrlerClientError};
use super::shard_client::ShardClient;
use crate::client::{ClientOptions, fresh_client_id};
use crate::harness::{Harness, HarnessError, LoopbackHarness, LoopbackOptions};

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
}

impl ShardedOptions {
    /// 1 controller group of 3 and `groups` groups of 3, 10 shards.
    pub fn new(groups: usize, run_dir: impl Into<PathBuf>) -> ShardedOptions {
        ShardedOptions {
            run_dir: run_dir.into(),
            groups,
            replicas: 3,
            ctrler_replicas: 3,
            nshards: super::config::DEFAULT_SHARDS,
            kvnode: None,
            bugs: Vec::new(),
            extra_args: Vec::new(),
        }
    }
}

/// A running controller group and shard groups.
pub struct ShardedDeployment {
    pub ctrlers: LoopbackHarness,
    pub groups: BTreeMap<Gid, LoopbackHarness>,
    nshards: usize,
}

impl ShardedDeployment {
    /// Start the controller group, then every shard group.
    pub fn start(opts: ShardedOptions) -> Result<ShardedDeployment, HarnessError> {
        let shards = opts.nshards.to_string();
        let mut c = LoopbackOptions::new(opts.ctrler_replicas, opts.run_dir.join("ctrler"));
        c.kvnode = opts.kvnode.clone();
        c.extra_args = vec![
            "--role".into(),
            "ctrler".into(),
            "--shards".into(),
            shards.clone(),
        ];
        let ctrlers = LoopbackHarness::start(c)?;
        let ctrler_spec = ctrlers
            .addresses()
            .iter()
            .map(|(id, a)| format!("{id}={a}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut groups = BTreeMap::new();
        for gid in 1..=opts.groups as Gid {
            let mut g =
                LoopbackOptions::new(opts.replicas, opts.run_dir.join(format!("group-{gid}")));
            g.kvnode = opts.kvnode.clone();
            g.group = gid;
            g.bugs = opts.bugs.clone();
            g.extra_args = [
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
            groups.insert(gid, LoopbackHarness::start(g)?);
        }
        Ok(ShardedDeployment {
            ctrlers,
            groups,
            nshards: opts.nshards,
        })
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
