//! A test's options checked and resolved into a [`Plan`]: defaults filled
//! in, names parsed, the seed drawn (and printed by the caller) when not
//! given, the system under test found in the registry and asked whether it
//! can run them. Anything wrong is [`RunnerError::Options`] with a message
//! saying what to use instead. [`check_limits`] is the check `faultline
//! nightly` makes of the options it passes on.
//!
//! Nodes run in network namespaces when the host can (root, `ip` and
//! `iptables`) unless `no_netns`; nemesis packages that need the network are
//! refused on loopback, saying why.

use std::ops::Deref;
use std::path::PathBuf;
use std::time::Duration;

use faultline_checker::ModelKind;
use faultline_reports::schema::TestOptions;
use faultline_workloads::{WorkloadKind, WorkloadOptions, rate::RateLimiter};

use crate::error::{RunnerError, bad_option};
use crate::system::SystemKind;
use crate::systems;

/// The options of `faultline run`, before they are checked (the CLI's flags,
/// one for one).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The system under test, by its registered name.
    pub db: String,
    /// `register` or `append`.
    pub workload: String,
    /// Comma-separated nemesis packages, `all` or `none`.
    pub nemesis: String,
    pub time_limit: u64,
    pub concurrency: usize,
    /// Shard groups (`None` or 0: not sharded).
    pub groups: Option<usize>,
    pub replicas: usize,
    pub bug: Option<String>,
    pub seed: Option<u64>,
    pub test_count: usize,
    pub store: PathBuf,
    pub rate: Option<f64>,
    pub keys: Option<usize>,
    pub ops_per_key: Option<u64>,
    pub nemesis_interval: f64,
    pub name: Option<String>,
    pub check_timeout: f64,
    pub no_netns: bool,
    pub etcd_serializable_reads: bool,
    pub attempt_timeout_ms: u64,
    /// `--system FILE.toml`: the system a file describes (selects the
    /// `file` system; `db` must then be the default or `file`).
    pub system_file: Option<PathBuf>,
    /// How kvnode leaders serve reads: `read-index` or `lease`.
    pub read_mode: String,
    /// Lease runs: the clock drift bound (percent) the leases allow for and
    /// the clock nemeses keep to (`None`: kvnode's default).
    pub clock_drift: Option<u32>,
    /// `--hosts FILE`: run the nodes on the remote hosts the file lists,
    /// over SSH.
    pub hosts: Option<PathBuf>,
}

/// Everything one test needs to know: the options as recorded in
/// `test.json` (reachable through `Deref`), and their parsed forms.
#[derive(Debug, Clone)]
pub struct Plan {
    pub options: TestOptions,
    pub workload_kind: WorkloadKind,
    pub model_kind: ModelKind,
    /// The system under test.
    pub system: &'static dyn SystemKind,
}

impl Deref for Plan {
    type Target = TestOptions;
    fn deref(&self) -> &TestOptions {
        &self.options
    }
}

/// The package a `--nemesis` item names: `partition` for
/// `partition:halves`, `power` for `power:all+no-tear`.
pub fn package_name(spec: &str) -> &str {
    spec.split_once(':').map_or(spec, |(name, _)| name)
}

impl Plan {
    /// Whether the run has the nemesis package `name`, with or without an
    /// option (`power` matches `power:all`).
    pub fn has_package(&self, name: &str) -> bool {
        self.nemesis.iter().any(|n| package_name(n) == name)
    }

    /// How kvnode leaders serve reads (`--read-mode`; recorded in test.json
    /// as `read_mode` when not the default).
    pub fn read_mode(&self) -> faultline_raft::ReadMode {
        self.options
            .extra
            .get("read_mode")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok())
            .unwrap_or_default()
    }

    /// `--clock-drift` (recorded in test.json as `clock_drift_pct`).
    pub fn clock_drift_pct(&self) -> Option<u32> {
        self.options
            .extra
            .get("clock_drift_pct")
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok())
    }

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

    /// Register workload: values are integers in the history.
    pub fn int_values(&self) -> bool {
        self.workload_kind == WorkloadKind::Register
    }

    /// `--hosts FILE`: the hosts file (recorded in test.json as `hosts`).
    pub fn hosts_file(&self) -> Option<PathBuf> {
        self.options
            .extra
            .get(HOSTS_OPTION)
            .and_then(|v| v.as_str())
            .map(PathBuf::from)
    }

    /// The plan of the `i`-th test of `--test-count` (seed + i).
    pub fn nth(&self, i: usize) -> Plan {
        let mut p = self.clone();
        p.options.seed = self.seed.wrapping_add(i as u64);
        p
    }
}

/// The key of `--hosts FILE` in test.json's options.
pub const HOSTS_OPTION: &str = "hosts";

/// Check `--hosts FILE` against the other options: what runs over SSH so
/// far is the faultline KV stack, one kvnode group or sharded (`--groups`),
/// any workload, with the kill, pause, partition, packet, clock and
/// shard-move nemeses. The file itself must parse. Members may outnumber
/// the hosts (several per host, on distinct ports).
fn check_hosts(
    path: &std::path::Path,
    opts: &RunOptions,
    system: &'static dyn SystemKind,
    nemesis: &[String],
) -> Result<(), RunnerError> {
    faultline_harness::ssh::HostsFile::load(path)
        .map_err(|e| bad_option(format!("--hosts: {e}")))?;
    let unsupported = |what: &str| {
        bad_option(format!(
            "--hosts: {what} does not run over SSH yet; over SSH faultline runs the faultline KV stack (--db faultline, one group or --groups N) with the kill, pause, partition, packet, clock and shard-move nemeses"
        ))
    };
    if opts.system_file.is_some() || system.name() != "faultline" {
        return Err(unsupported(&format!("--db {}", system.name())));
    }
    if let Some(n) = nemesis
        .iter()
        .find(|n| ["power", "membership", "clock-partition"].contains(&package_name(n)))
    {
        return Err(unsupported(&format!("--nemesis {n}")));
    }
    if opts.no_netns {
        return Err(bad_option(
            "--no-netns is about local nodes; with --hosts the nodes run on the hosts: drop --no-netns",
        ));
    }
    Ok(())
}

/// A seed from the clock and the pid, for runs without `--seed`.
fn random_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    faultline_raft::splitmix64(t ^ (u64::from(std::process::id()) << 32)) >> 16
}

/// Whether nodes run in namespaces: yes unless `--no-netns` or the host
/// cannot (not root, tools missing). Faults that need the real network are
/// refused on loopback, saying why.
fn network_mode(no_netns: bool, nemesis: &[String], sharded: bool) -> Result<bool, RunnerError> {
    let why_not = if no_netns {
        Some("--no-netns was given".to_string())
    } else {
        faultline_harness::netns::preflight()
            .err()
            .map(|e| e.to_string())
    };
    let needs_net: Vec<&str> = nemesis
        .iter()
        .map(String::as_str)
        .filter(|n| faultline_nemesis::needs_network(n))
        .collect();
    match why_not {
        Some(why) if !needs_net.is_empty() => Err(bad_option(format!(
            "--nemesis {} needs nodes in network namespaces, but they would run on loopback: {why}. \
             Drop those packages (e.g. --nemesis {}) or run as root without --no-netns",
            needs_net.join(","),
            if sharded {
                "shard-move,kill,pause"
            } else {
                "kill,pause"
            }
        ))),
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

/// Keys in use at once in a sharded run (unless `--keys`): as many as the
/// default shard count, so every shard tends to carry traffic (a shard
/// move meets live keys) and each key sees fewer concurrent operations.
const SHARDED_KEYS: usize = 10;

/// An error saying which of the options `faultline run` and `faultline
/// nightly` share is out of range, if one is: `--time-limit` (seconds),
/// `--test-count`, `--nemesis-interval` and `--check-timeout` (seconds).
pub fn check_limits(
    time_limit: u64,
    test_count: usize,
    nemesis_interval: f64,
    check_timeout: f64,
) -> Result<(), RunnerError> {
    if time_limit == 0 {
        return Err(bad_option("--time-limit must be at least 1 second"));
    }
    if test_count == 0 {
        return Err(bad_option("--test-count must be at least 1"));
    }
    if !(nemesis_interval.is_finite() && nemesis_interval >= 0.1) {
        return Err(bad_option(format!(
            "--nemesis-interval must be at least 0.1 seconds, got {nemesis_interval}"
        )));
    }
    if !(check_timeout.is_finite() && check_timeout > 0.0) {
        return Err(bad_option(format!(
            "--check-timeout must be a positive number of seconds, got {check_timeout}"
        )));
    }
    Ok(())
}

fn workload_kind(name: &str) -> Result<WorkloadKind, RunnerError> {
    match name {
        "register" => Ok(WorkloadKind::Register),
        "append" => Ok(WorkloadKind::Append),
        other => Err(bad_option(format!(
            "--workload {other:?}: use register or append"
        ))),
    }
}

/// Check `opts` and resolve them into a plan for the registered system
/// `opts.db`.
pub fn plan(opts: &RunOptions) -> Result<Plan, RunnerError> {
    let system = match &opts.system_file {
        Some(_) if opts.db != "faultline" && opts.db != systems::file::FileSystem.name() => {
            return Err(bad_option(format!(
                "--system FILE describes the system under test; it does not go with --db {}",
                opts.db
            )));
        }
        Some(_) => &systems::file::FileSystem,
        None => systems::find(&opts.db)?,
    };
    plan_with(opts, system)
}

/// Check `opts` and resolve them into a plan for `system` (registered or
/// not: a library user's own system needs no registry entry).
pub fn plan_with(opts: &RunOptions, system: &'static dyn SystemKind) -> Result<Plan, RunnerError> {
    let groups = opts.groups.unwrap_or(0);
    let sharded = groups > 0;
    if groups > 9 {
        return Err(bad_option(format!(
            "--groups must be between 1 and 9 (or 0: no sharding), got {groups}"
        )));
    }
    if !(1..=9).contains(&opts.replicas) {
        return Err(bad_option(format!(
            "--replicas must be between 1 and 9, got {}",
            opts.replicas
        )));
    }
    if opts.concurrency == 0 || opts.concurrency > 1000 {
        return Err(bad_option(format!(
            "--concurrency must be between 1 and 1000, got {}",
            opts.concurrency
        )));
    }
    check_limits(
        opts.time_limit,
        opts.test_count,
        opts.nemesis_interval,
        opts.check_timeout,
    )?;
    if !(10..=5000).contains(&opts.attempt_timeout_ms) {
        return Err(bad_option(format!(
            "--attempt-timeout-ms must be between 10 and 5000, got {}",
            opts.attempt_timeout_ms
        )));
    }
    if let Some(rate) = opts.rate {
        RateLimiter::new(rate)?;
    }
    let nemesis: Vec<String> = faultline_nemesis::parse_packages_for(&opts.nemesis, sharded)?
        .iter()
        .map(|p| p.spec())
        .collect();
    if nemesis.iter().any(|n| package_name(n) == "shard-move") {
        if !sharded {
            return Err(bad_option(
                "--nemesis shard-move moves shards between shard groups: add --groups N (2 or more), e.g. --groups 3",
            ));
        }
        if groups < 2 {
            return Err(bad_option(
                "--nemesis shard-move needs at least 2 shard groups to move shards between; use --groups 2 or more",
            ));
        }
    }
    if nemesis.iter().any(|n| package_name(n) == "membership") && sharded {
        return Err(bad_option(
            "--nemesis membership changes the members of a single KV group: drop --groups (a sharded run cannot change its groups' members)",
        ));
    }
    let workload_kind = workload_kind(&opts.workload)?;
    let defaults = WorkloadOptions::new(workload_kind, 0);
    let keys = opts.keys.unwrap_or(if sharded {
        defaults.keys.max(SHARDED_KEYS)
    } else {
        defaults.keys
    });
    let ops_per_key = opts.ops_per_key.unwrap_or(defaults.ops_per_key);
    WorkloadOptions {
        keys,
        ops_per_key,
        ..defaults
    }
    .build()?;
    let mut plan = Plan {
        options: TestOptions {
            name: String::new(),
            db: system.name().to_string(),
            workload: workload_kind.name().to_string(),
            model: workload_kind.model().to_string(),
            nemesis: nemesis.clone(),
            nemesis_interval_s: opts.nemesis_interval,
            time_limit_s: opts.time_limit,
            concurrency: opts.concurrency,
            rate: opts.rate,
            keys,
            ops_per_key,
            groups,
            replicas: opts.replicas,
            bug: opts.bug.clone(),
            seed: opts.seed.unwrap_or_else(random_seed),
            test_count: opts.test_count,
            store: opts.store.clone(),
            check_timeout_s: opts.check_timeout,
            etcd_serializable_reads: opts.etcd_serializable_reads,
            no_netns: opts.no_netns,
            netns: false,
            attempt_timeout_ms: opts.attempt_timeout_ms,
            extra: opts
                .system_file
                .iter()
                .map(|f| {
                    (
                        systems::file::SYSTEM_FILE_OPTION.to_string(),
                        serde_json::Value::String(systems::file::resolve(f).display().to_string()),
                    )
                })
                .collect(),
        },
        workload_kind,
        model_kind: workload_kind
            .model()
            .parse()
            .map_err(|e| bad_option(format!("{e}")))?,
        system,
    };
    let read_mode: faultline_raft::ReadMode = opts
        .read_mode
        .parse()
        .map_err(|e| bad_option(format!("--read-mode: {e}")))?;
    if read_mode != faultline_raft::ReadMode::ReadIndex {
        plan.options
            .extra
            .insert("read_mode".into(), read_mode.name().into());
    }
    if let Some(d) = opts.clock_drift {
        if read_mode != faultline_raft::ReadMode::Lease {
            return Err(bad_option(
                "--clock-drift is the drift bound of leader leases: add --read-mode lease",
            ));
        }
        let election = faultline_kvnode::node::config::DEFAULT_ELECTION_TICKS;
        if faultline_raft::lease_ticks(election, d, false).is_none() {
            return Err(bad_option(format!(
                "--clock-drift {d}: a drift bound that large leaves no lease of {election} election ticks; use at most 70"
            )));
        }
        plan.options
            .extra
            .insert("clock_drift_pct".into(), d.into());
    }
    system.validate(&plan)?;
    match &opts.hosts {
        Some(path) => {
            check_hosts(path, opts, system, &nemesis)?;
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            plan.options.extra.insert(
                HOSTS_OPTION.into(),
                serde_json::Value::String(abs.display().to_string()),
            );
        }
        None => plan.options.netns = network_mode(opts.no_netns, &nemesis, sharded)?,
    }
    plan.options.name = match &opts.name {
        Some(n) if n.is_empty() || n.contains(['/', '\\']) || n.starts_with('.') => {
            return Err(bad_option(format!(
                "--name {n:?}: use a plain folder name (no slashes, not starting with a dot)"
            )));
        }
        Some(n) => n.clone(),
        None => {
            let nem = if nemesis.is_empty() {
                "none".to_string()
            } else {
                nemesis.join("+").replace(':', "-")
            };
            let bug = opts
                .bug
                .as_deref()
                .map(|b| format!("-{b}"))
                .unwrap_or_default();
            format!(
                "{}{}-{nem}{bug}",
                system.test_name_prefix(&plan),
                workload_kind.name()
            )
        }
    };
    Ok(plan)
}
