//! The faultline KV stack's registry entry (`--db faultline`, the default):
//! one kvnode Raft group ([`super::kvnode`]), or with `--groups N` the
//! sharded stack ([`super::sharded`]). It sorts `--bug NAME` by layer: Raft
//! bugs go to every node, kv-layer bugs to the single group's nodes, the
//! client bug `client-retry-new-seq` to the clients, shardkv bugs to the
//! shard group members; a bug that would have no effect in the run asked
//! for is refused, saying what to use instead. With the `power` nemesis the
//! group runs on diskfs mounts (disk faults).

use std::sync::Arc;
use std::time::Duration;

use faultline_harness::ssh::{HostsFile, Needs, SshCluster};

use faultline_harness::disk::DiskFaults;
use faultline_kvnode::bugs::{KvBug, NodeBugs};
use faultline_kvnode::client::ClientOptions;
use faultline_kvnode::shard::ShardBug;
use faultline_raft::{RaftBug, ReadMode};

use super::kvnode::{KvGroup, KvGroupOptions};
use super::sharded::{ShardDb, ShardOptions};
use crate::error::{RunnerError, bad_option};
use crate::plan::Plan;
use crate::system::{SystemContext, SystemKind, SystemUnderTest};

/// Whether the run's nodes need diskfs under their data directories: the
/// `power` nemesis is in the list.
fn wants_disk_faults(plan: &Plan) -> bool {
    plan.has_package("power")
}

/// Spare namespaces for the members the `membership` nemesis adds: at most
/// one per fault and one per heal, a fault every nemesis interval, plus
/// margin; none without that nemesis.
fn spare_nodes(plan: &Plan) -> usize {
    if !plan.has_package("membership") {
        return 0;
    }
    let faults = plan.time_limit_s as f64 / plan.nemesis_interval_s.max(0.1);
    (faults.ceil() as usize + 4).min(64)
}

/// With `--hosts FILE`: connect to every host and check it has what the
/// run's nemeses need (an unreachable or unsuitable host is an options
/// error, before anything starts).
fn connect_hosts(plan: &Plan) -> Result<Option<Arc<SshCluster>>, RunnerError> {
    let Some(path) = plan.hosts_file() else {
        return Ok(None);
    };
    let file = HostsFile::load(&path).map_err(|e| bad_option(format!("--hosts: {e}")))?;
    let has = |n: &str| plan.has_package(n);
    let needs = Needs {
        iptables: has("partition") || has("packet"),
        faketime: has("clock"),
    };
    let cluster =
        SshCluster::connect(&file, needs).map_err(|e| bad_option(format!("--hosts: {e}")))?;
    Ok(Some(Arc::new(cluster)))
}

/// The registry entry of the faultline KV stack.
#[derive(Debug)]
pub struct Faultline;

/// `--bug NAME` sorted by layer: (bugs for the nodes, the client bug
/// `client-retry-new-seq`).
fn node_bugs(bug: Option<&str>, sharded: bool) -> Result<(Vec<String>, bool), RunnerError> {
    let Some(name) = bug else {
        return Ok((Vec::new(), false));
    };
    if name.parse::<ShardBug>().is_ok() {
        if !sharded {
            return Err(bad_option(format!(
                "--bug {name} is a shardkv-layer bug: it needs a sharded run; add --groups N (e.g. --groups 3 --nemesis shard-move,kill)"
            )));
        }
        return Ok((vec![name.to_string()], false));
    }
    let parsed = NodeBugs::parse(&[name]).map_err(|e| {
        bad_option(format!(
            "{e}; shardkv (with --groups): {}",
            ShardBug::ALL.map(ShardBug::name).join(", ")
        ))
    })?;
    if sharded && !parsed.kv.is_empty() {
        return Err(bad_option(format!(
            "--bug {name} is a kv/client-layer bug of the single KV group; shard groups run their own state machine and client, so it would have no effect with --groups. Drop --groups, or plant a shardkv bug ({}) or a raft bug",
            ShardBug::ALL.map(ShardBug::name).join(", ")
        )));
    }
    if parsed.has(KvBug::ClientRetryNewSeq) {
        Ok((Vec::new(), true))
    } else {
        Ok((vec![name.to_string()], false))
    }
}

/// The kvnode flags of a run: its read mode and, when given, the drift bound.
fn kvnode_args(plan: &Plan) -> Vec<String> {
    let mut args = vec!["--read-mode".into(), plan.read_mode().name().into()];
    if let Some(d) = plan.clock_drift_pct() {
        args.extend(["--clock-drift".into(), d.to_string()]);
    }
    args
}

impl SystemKind for Faultline {
    fn name(&self) -> &'static str {
        "faultline"
    }

    fn about(&self) -> &'static str {
        "the faultline KV stack: kvnode processes, one Raft group or sharded (--groups N)"
    }

    fn validate(&self, plan: &Plan) -> Result<(), RunnerError> {
        if plan.etcd_serializable_reads {
            return Err(bad_option("--etcd-serializable-reads needs --db etcd"));
        }
        if plan.sharded() && wants_disk_faults(plan) {
            return Err(bad_option(
                "--nemesis power runs a single KV group for now (diskfs is not wired into shard groups); drop --groups",
            ));
        }
        let lease = plan.read_mode() == ReadMode::Lease;
        if lease && plan.sharded() {
            return Err(bad_option(
                "--read-mode lease is for one kvnode group; drop --groups",
            ));
        }
        if let Some(name) = plan.bug.as_deref() {
            let needs_lease = name.parse::<KvBug>().is_ok_and(|b| b.needs_lease())
                || name.parse::<RaftBug>().is_ok_and(|b| b.needs_lease());
            if needs_lease && !lease {
                return Err(bad_option(format!(
                    "--bug {name} is a leader-lease bug: add --read-mode lease"
                )));
            }
        }
        node_bugs(plan.bug.as_deref(), plan.sharded()).map(|_| ())
    }

    fn test_name_prefix(&self, plan: &Plan) -> String {
        if plan.sharded() {
            format!("shard{}-", plan.groups)
        } else if plan.read_mode() == ReadMode::Lease {
            "lease-".to_string()
        } else {
            String::new()
        }
    }

    fn replay_flags(&self, plan: &Plan) -> String {
        let mut flags = String::new();
        if plan.read_mode() != ReadMode::ReadIndex {
            flags += &format!(" --read-mode {}", plan.read_mode().name());
        }
        if let Some(d) = plan.clock_drift_pct() {
            flags += &format!(" --clock-drift {d}");
        }
        flags += &plan
            .hosts_file()
            .map(|h| format!(" --hosts {}", h.display()))
            .unwrap_or_default();
        flags
    }

    fn build(&self, ctx: &SystemContext) -> Result<Box<dyn SystemUnderTest>, RunnerError> {
        let plan = &ctx.plan;
        let (bugs, retry_new_seq) = node_bugs(plan.bug.as_deref(), plan.sharded())?;
        let client = ClientOptions {
            retry_new_seq,
            attempt_timeout: Duration::from_millis(plan.attempt_timeout_ms),
            ..ClientOptions::default()
        };
        if plan.sharded() {
            return Ok(Box::new(ShardDb::new(
                ShardOptions {
                    groups: plan.groups,
                    replicas: plan.replicas,
                    netns: plan.netns,
                    bugs,
                    run_dir: ctx.run_dir.clone(),
                    client,
                    int_values: plan.int_values(),
                    ssh: connect_hosts(plan)?,
                },
                ctx.runtime.clone(),
            )));
        }
        Ok(Box::new(KvGroup::new(
            KvGroupOptions {
                replicas: plan.replicas,
                netns: plan.netns,
                bugs,
                run_dir: ctx.run_dir.clone(),
                client,
                int_values: plan.int_values(),
                disk_faults: wants_disk_faults(plan).then_some(DiskFaults {
                    seed: plan.seed,
                    binary: None,
                }),
                extra_args: kvnode_args(plan),
                fake_monotonic: plan.read_mode() == ReadMode::Lease,
                clock_drift_pct: (plan.read_mode() == ReadMode::Lease).then(|| {
                    plan.clock_drift_pct()
                        .unwrap_or(faultline_raft::DEFAULT_MAX_CLOCK_DRIFT_PCT)
                }),
                spare_nodes: spare_nodes(plan),
                ssh: connect_hosts(plan)?,
            },
            ctx.runtime.clone(),
        )))
    }
}
