//! `faultline run` options checked and resolved into a [`Plan`]: defaults
//! filled in, names parsed, the seed drawn (and printed) when not given.
//! Anything wrong is an error with a message saying what to use instead
//! (the binary exits 2 on it). [`check_limits`] is the check
//! `faultline nightly` makes of the same options.
//!
//! A run is **sharded** when `--groups N` is given with N >= 1: a shard
//! controller group of 3 plus N shard groups of `--replicas`; `--groups`
//! absent or 0 is the single KV group. Sharded runs take the `shard-move`
//! nemesis (and `all` includes it), shardkv-layer bugs (to every shard group
//! member) and Raft-layer bugs (passed through to the shard group members);
//! KV/client-layer bugs act on the single group's state machine and client
//! only, so they are refused with `--groups`, as shardkv bugs are without.
//! Sharded or not, nodes run in network namespaces when the host can
//! (`network_mode`), and the network packages are refused on loopback.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use faultline_kvnode::bugs::{KvBug, NodeBugs};
use faultline_kvnode::shard::ShardBug;
use faultline_workloads::{WorkloadKind, WorkloadOptions, rate::RateLimiter};
use serde::Serialize;

use crate::cli::{Db, RunArgs, Workload};

/// Everything one test run needs to know.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub name: String,
    pub db: &'static str,
    pub workload: &'static str,
    #[serde(skip)]
    pub workload_kind: WorkloadKind,
    pub model: &'static str,
    /// Nemesis package names, in order (empty: none).
    pub nemesis: Vec<&'static str>,
    pub nemesis_interval_s: f64,
    pub time_limit_s: u64,
    pub concurrency: usize,
    pub rate: Option<f64>,
    pub keys: usize,
    pub ops_per_key: u64,
    /// Shard groups (0: not sharded, one KV group of `replicas`).
    pub groups: usize,
    pub replicas: usize,
    pub bug: Option<String>,
    /// Bugs passed to every kvnode (`--bug`).
    pub node_bugs: Vec<String>,
    /// Planted client bug `client-retry-new-seq`.
    pub client_retry_new_seq: bool,
    pub seed: u64,
    pub test_count: usize,
    pub store: PathBuf,
    pub check_timeout_s: f64,
    /// `--etcd-serializable-reads`: etcd gets may be served from a member's
    /// own (possibly stale) state.
    pub etcd_serializable_reads: bool,
    /// `--no-netns`: loopback even when namespaces are available.
    pub no_netns: bool,
    /// Nodes run in network namespaces (root, tools present, no `--no-netns`).
    pub netns: bool,
    /// A client's wait for one node before it tries another.
    pub attempt_timeout_ms: u64,
}

impl Plan {
    pub fn time_limit(&self) -> Duration {
        Duration::from_secs(self.time_limit_s)
    }

    pub fn workload_options(&self) -> WorkloadOptions {
        WorkloadOptions {
            kind: self.workload_kind,
            seed: self.seed,
            keys: self.keys,
            ops_per_key: self.ops_per_key,
        }
    }

    /// Whether the run is sharded (`--groups N`, N >= 1).
    pub fn sharded(&self) -> bool {
        self.groups > 0
    }

    /// The plan of the `i`-th test of `--test-count` (seed + i).
    pub fn nth(&self, i: usize) -> Plan {
        let mut p = self.clone();
        p.seed = self.seed.wrapping_add(i as u64);
        p
    }
}

fn random_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (t ^ (u64::from(std::process::id()) << 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16
}

/// Whether nodes run in namespaces: yes unless `--no-netns` or the host
/// cannot (not root, tools missing), for a single group and a sharded run
/// alike (the sharded deployment puts every group on one shared network).
/// Faults that need the real network are refused on loopback, saying why.
fn network_mode(no_netns: bool, nemesis: &[&'static str], sharded: bool) -> Result<bool> {
    let why_not = if no_netns {
        Some("--no-netns was given".to_string())
    } else {
        faultline_harness::netns::preflight()
            .err()
            .map(|e| e.to_string())
    };
    let needs_net: Vec<&str> = nemesis
        .iter()
        .copied()
        .filter(|n| faultline_nemesis::needs_network(n))
        .collect();
    match why_not {
        Some(why) if !needs_net.is_empty() => bail!(
            "--nemesis {} needs nodes in network namespaces, but they would run on loopback: {why}. \
             Drop those packages (e.g. --nemesis {}) or run as root without --no-netns",
            needs_net.join(","),
            if sharded {
                "shard-move,kill,pause"
            } else {
                "kill,pause"
            }
        ),
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

/// Keys in use at once in a sharded run (unless `--keys`): as many as the
/// default shard count, so every shard tends to carry traffic (a shard
/// move meets live keys) and each key sees fewer concurrent operations
/// (with 3 keys and 10 clients at loopback speed, a key's 400 operations are
/// so interleaved that its linearizability check can run out of budget).
const SHARDED_KEYS: usize = 10;

/// `--bug NAME` sorted by layer: (bugs for the nodes, the client bug
/// `client-retry-new-seq`). Shardkv bugs need a sharded run; KV/client
/// bugs an unsharded one; Raft bugs go to either.
fn node_bugs(bug: Option<&str>, sharded: bool) -> Result<(Vec<String>, bool)> {
    let Some(name) = bug else {
        return Ok((Vec::new(), false));
    };
    if name.parse::<ShardBug>().is_ok() {
        if !sharded {
            bail!(
                "--bug {name} is a shardkv-layer bug: it needs a sharded run; add --groups N (e.g. --groups 3 --nemesis shard-move,kill)"
            );
        }
        return Ok((vec![name.to_string()], false));
    }
    let parsed = NodeBugs::parse(&[name]).map_err(|e| {
        anyhow::anyhow!(
            "{e}; shardkv (with --groups): {}",
            ShardBug::ALL.map(ShardBug::name).join(", ")
        )
    })?;
    if sharded && !parsed.kv.is_empty() {
        bail!(
            "--bug {name} is a kv/client-layer bug of the single KV group; shard groups run their own state machine and client, so it would have no effect with --groups. Drop --groups, or plant a shardkv bug ({}) or a raft bug",
            ShardBug::ALL.map(ShardBug::name).join(", ")
        );
    }
    if parsed.has(KvBug::ClientRetryNewSeq) {
        Ok((Vec::new(), true))
    } else {
        Ok((vec![name.to_string()], false))
    }
}

/// An error saying which of the options `faultline run` and `faultline
/// nightly` share (the nightly passes them on to each run) is out of range,
/// if one is: `--time-limit` (seconds), `--test-count`, `--nemesis-interval`
/// and `--check-timeout` (seconds).
pub fn check_limits(
    time_limit: u64,
    test_count: usize,
    nemesis_interval: f64,
    check_timeout: f64,
) -> Result<()> {
    if time_limit == 0 {
        bail!("--time-limit must be at least 1 second");
    }
    if test_count == 0 {
        bail!("--test-count must be at least 1");
    }
    if !(nemesis_interval.is_finite() && nemesis_interval >= 0.1) {
        bail!("--nemesis-interval must be at least 0.1 seconds, got {nemesis_interval}");
    }
    if !(check_timeout.is_finite() && check_timeout > 0.0) {
        bail!("--check-timeout must be a positive number of seconds, got {check_timeout}");
    }
    Ok(())
}

pub fn plan(args: &RunArgs) -> Result<Plan> {
    if matches!(args.db, Db::Etcd)
        && (!matches!(args.workload, Workload::Register) || args.bug.is_some())
    {
        bail!(
            "--db etcd runs the register workload without planted bugs; use --workload register and no --bug"
        );
    }
    if args.etcd_serializable_reads && !matches!(args.db, Db::Etcd) {
        bail!("--etcd-serializable-reads needs --db etcd");
    }
    let groups = args.groups.unwrap_or(0);
    let sharded = groups > 0;
    if groups > 9 {
        bail!("--groups must be between 1 and 9 (or 0: no sharding), got {groups}");
    }
    if sharded && matches!(args.db, Db::Etcd) {
        bail!("--groups runs the sharded kvnode stack; it does not go with --db etcd");
    }
    if !(1..=9).contains(&args.replicas) {
        bail!("--replicas must be between 1 and 9, got {}", args.replicas);
    }
    if args.concurrency == 0 || args.concurrency > 1000 {
        bail!(
            "--concurrency must be between 1 and 1000, got {}",
            args.concurrency
        );
    }
    check_limits(
        args.time_limit,
        args.test_count,
        args.nemesis_interval,
        args.check_timeout,
    )?;
    if !(10..=5000).contains(&args.attempt_timeout_ms) {
        bail!(
            "--attempt-timeout-ms must be between 10 and 5000, got {}",
            args.attempt_timeout_ms
        );
    }
    if let Some(rate) = args.rate {
        RateLimiter::new(rate)?;
    }
    let nemesis: Vec<&'static str> = faultline_nemesis::parse_packages_for(&args.nemesis, sharded)?
        .iter()
        .map(|p| p.name())
        .collect();
    if nemesis.contains(&"shard-move") {
        if !sharded {
            bail!(
                "--nemesis shard-move moves shards between shard groups: add --groups N (2 or more), e.g. --groups 3"
            );
        }
        if groups < 2 {
            bail!(
                "--nemesis shard-move needs at least 2 shard groups to move shards between; use --groups 2 or more"
            );
        }
    }
    let netns = network_mode(args.no_netns, &nemesis, sharded)?;
    let (node_bugs, client_retry_new_seq) = node_bugs(args.bug.as_deref(), sharded)?;
    let workload_kind = match args.workload {
        Workload::Register => WorkloadKind::Register,
        Workload::Append => WorkloadKind::Append,
    };
    let defaults = WorkloadOptions::new(workload_kind, 0);
    let keys = args.keys.unwrap_or(if sharded {
        defaults.keys.max(SHARDED_KEYS)
    } else {
        defaults.keys
    });
    let ops_per_key = args.ops_per_key.unwrap_or(defaults.ops_per_key);
    WorkloadOptions {
        keys,
        ops_per_key,
        ..defaults
    }
    .build()?;
    let name = match &args.name {
        Some(n) if n.is_empty() || n.contains(['/', '\\']) || n.starts_with('.') => {
            bail!("--name {n:?}: use a plain folder name (no slashes, not starting with a dot)")
        }
        Some(n) => n.clone(),
        None => {
            let nem = if nemesis.is_empty() {
                "none".to_string()
            } else {
                nemesis.join("+")
            };
            let bug = args
                .bug
                .as_deref()
                .map(|b| format!("-{b}"))
                .unwrap_or_default();
            let db = if matches!(args.db, Db::Etcd) {
                "etcd-"
            } else {
                ""
            };
            let shards = if sharded {
                format!("shard{groups}-")
            } else {
                String::new()
            };
            format!("{db}{shards}{}-{nem}{bug}", workload_kind.name())
        }
    };
    Ok(Plan {
        name,
        db: if matches!(args.db, Db::Etcd) {
            "etcd"
        } else {
            "faultline"
        },
        etcd_serializable_reads: args.etcd_serializable_reads,
        workload: workload_kind.name(),
        workload_kind,
        model: workload_kind.model(),
        nemesis,
        nemesis_interval_s: args.nemesis_interval,
        time_limit_s: args.time_limit,
        concurrency: args.concurrency,
        rate: args.rate,
        keys,
        ops_per_key,
        groups,
        replicas: args.replicas,
        bug: args.bug.clone(),
        node_bugs,
        client_retry_new_seq,
        seed: args.seed.unwrap_or_else(random_seed),
        test_count: args.test_count,
        store: args.store.clone(),
        check_timeout_s: args.check_timeout,
        no_netns: args.no_netns,
        netns,
        attempt_timeout_ms: args.attempt_timeout_ms,
    })
}
