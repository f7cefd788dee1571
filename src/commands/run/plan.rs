//! `faultline run` options checked and resolved into a [`Plan`]: defaults
//! filled in, names parsed, the seed drawn (and printed) when not given.
//! Anything wrong is an error with a message saying what to use instead
//! (the binary exits 2 on it).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use faultline_cluster::bugs::{KvBug, NodeBugs};
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
/// cannot (not root, tools missing). Faults that need the real network are
/// refused on loopback, saying why.
fn network_mode(no_netns: bool, nemesis: &[&'static str]) -> Result<bool> {
    let why_not = if no_netns {
        Some("--no-netns was given".to_string())
    } else {
        faultline_cluster::netns::preflight()
            .err()
            .map(|e| e.to_string())
    };
    let needs_net: Vec<&str> = nemesis
        .iter()
        .copied()
        .filter(|n| NETWORK_PACKAGES.contains(n))
        .collect();
    match why_not {
        Some(why) if !needs_net.is_empty() => bail!(
            "--nemesis {} needs nodes in network namespaces, but they would run on loopback: {why}. \
             Drop those packages (e.g. --nemesis kill,pause) or run as root without --no-netns",
            needs_net.join(",")
        ),
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

/// Nemesis packages that act on the network or clocks of namespaces.
const NETWORK_PACKAGES: &[&str] = &["partition", "clock", "packet"];

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
    if args.groups != 1 {
        bail!(
            "--groups {} is not available yet: sharding is not built; use --groups 1",
            args.groups
        );
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
    if args.time_limit == 0 {
        bail!("--time-limit must be at least 1 second");
    }
    if args.test_count == 0 {
        bail!("--test-count must be at least 1");
    }
    if !(args.nemesis_interval.is_finite() && args.nemesis_interval >= 0.1) {
        bail!(
            "--nemesis-interval must be at least 0.1 seconds, got {}",
            args.nemesis_interval
        );
    }
    if !(args.check_timeout.is_finite() && args.check_timeout > 0.0) {
        bail!(
            "--check-timeout must be a positive number of seconds, got {}",
            args.check_timeout
        );
    }
    if !(10..=5000).contains(&args.attempt_timeout_ms) {
        bail!(
            "--attempt-timeout-ms must be between 10 and 5000, got {}",
            args.attempt_timeout_ms
        );
    }
    if let Some(rate) = args.rate {
        RateLimiter::new(rate)?;
    }
    let nemesis: Vec<&'static str> = faultline_nemesis::parse_packages(&args.nemesis)?
        .iter()
        .map(|p| p.name())
        .collect();
    let netns = network_mode(args.no_netns, &nemesis)?;
    let (node_bugs, client_retry_new_seq) = match &args.bug {
        None => (Vec::new(), false),
        Some(name) => {
            let parsed = NodeBugs::parse(&[name.as_str()])?;
            if parsed.has(KvBug::ClientRetryNewSeq) {
                (Vec::new(), true)
            } else {
                (vec![name.clone()], false)
            }
        }
    };
    let workload_kind = match args.workload {
        Workload::Register => WorkloadKind::Register,
        Workload::Append => WorkloadKind::Append,
    };
    let defaults = WorkloadOptions::new(workload_kind, 0);
    let keys = args.keys.unwrap_or(defaults.keys);
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
            format!("{db}{}-{nem}{bug}", workload_kind.name())
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
        groups: args.groups,
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
