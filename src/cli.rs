//! The command-line surface of `faultline` (clap derive): every subcommand and
//! flag of DESIGN.md, and nothing else. Parsing only; `commands/` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Jepsen-style testing for a Raft-based sharded key/value stack.
///
/// Exit codes everywhere: 0 valid / all properties hold, 1 a violation was
/// found, 2 unknown, usage error or environment problem.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a cluster, run a workload under a nemesis, check and store the results.
    Run(RunArgs),
    /// Check a recorded history (or several) for linearizability.
    Check(CheckArgs),
    /// Model-check Raft invariants on the real Raft core.
    Model(ModelArgs),
    /// Run the deterministic simulator of the Raft core.
    Sim(SimArgs),
    /// Benchmarks that print figures.
    Bench(BenchArgs),
    /// Rebuild a run's report and its store's index; exit with the run's verdict.
    Report(ReportArgs),
    /// Serve the store for browsing.
    Serve(ServeArgs),
    /// Run the matrix of workloads x nemesis configurations; summary and trend table in the store.
    Nightly(NightlyArgs),
    /// List planted bugs and which layer and test catches each.
    Bugs(BugsArgs),
    /// Remove what killed runs left behind (processes, namespaces, rules, files).
    Clean,
}

/// `faultline bench kv --db`: the stores the closed-loop benchmark can load.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BenchDb {
    Faultline,
    Etcd,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Workload {
    Register,
    Append,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Register => "register",
            Workload::Append => "append",
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The system under test (the registry of `faultline-runner`).
    #[arg(long, default_value = "faultline",
          value_parser = clap::builder::PossibleValuesParser::new(faultline_runner::systems::names()))]
    pub db: String,
    /// Test the system this file describes (nodes, readiness, logs, client
    /// adapter; README "Testing your own system"); selects `--db file`.
    #[arg(long, value_name = "FILE.toml", conflicts_with = "db")]
    pub system: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "register")]
    pub workload: Workload,
    /// Comma-separated nemesis packages (kill, pause, partition, clock,
    /// packet, shard-move, power, clock-partition, membership), `all` or
    /// `none`. `power` (a power loss: the data directories run on diskfs;
    /// root and /dev/fuse), `clock-partition` (the leader cut off while its
    /// clock runs slow, for lease runs) and `membership` (remove, add or
    /// replace a member) are not in `all`. `partition:GRUDGE` draws only
    /// that grudge (isolate-one, halves, majorities-ring, bridge,
    /// isolate-leader); `power:TARGET+TEAR` fixes whom a power loss hits
    /// (one, leader, majority, all) and/or whether it tears (tear, no-tear),
    /// e.g. `power:all+no-tear`.
    #[arg(long, default_value = "kill,pause")]
    pub nemesis: String,
    #[arg(long, default_value_t = 60)]
    pub time_limit: u64,
    #[arg(long, default_value_t = 10)]
    pub concurrency: usize,
    /// Shard groups: given (1 or more), the run is sharded: a shard
    /// controller group of 3 plus N shard groups of --replicas members each,
    /// joined before the workload starts. `--groups` alone: 2 shard groups.
    /// Absent or 0: one KV group.
    #[arg(long, num_args = 0..=1, default_missing_value = "2")]
    pub groups: Option<usize>,
    #[arg(long, default_value_t = 3)]
    pub replicas: usize,
    #[arg(long)]
    pub bug: Option<String>,
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub test_count: usize,
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// Overall operation rate limit in ops/s (default: as fast as the clients go).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Keys in use at once (default: 2 for register, 3 for append).
    #[arg(long)]
    pub keys: Option<usize>,
    /// Operations per key before moving to a fresh key (default: 200 register, 400 append).
    #[arg(long)]
    pub ops_per_key: Option<u64>,
    /// Seconds between two faults of one nemesis package (each held about half of it).
    #[arg(long, default_value_t = 10.0)]
    pub nemesis_interval: f64,
    /// Test name, the store folder of its runs (default: <workload>-<nemesis>).
    #[arg(long)]
    pub name: Option<String>,
    /// Time budget of the linearizability check in seconds (then: unknown).
    #[arg(long, default_value_t = 120.0)]
    pub check_timeout: f64,
    /// Run every node on loopback instead of in network namespaces (no
    /// partition, clock or packet faults; no root needed).
    #[arg(long)]
    pub no_netns: bool,
    /// With `--db etcd`: serializable gets (a member answers from its own,
    /// possibly stale, state) instead of linearizable ones.
    #[arg(long)]
    pub etcd_serializable_reads: bool,
    /// How long a client waits for one node before trying another, in ms
    /// (the whole operation gives up after 5 s).
    #[arg(long, default_value_t = 250)]
    pub attempt_timeout_ms: u64,
    /// How kvnode leaders serve Gets: read-index (a heartbeat round per
    /// batch) or lease (locally, inside a leader lease; see README "Clock
    /// faults and leases").
    #[arg(long, default_value = "read-index")]
    pub read_mode: String,
    /// With --read-mode lease: the clock drift bound, in percent, that the
    /// kvnodes' leases allow for (kvnode's default: 20) and within which the
    /// clock nemeses (`clock` rate faults, `clock-partition`) set clock rates.
    #[arg(long, value_name = "PCT")]
    pub clock_drift: Option<u32>,
    /// Run the nodes on remote machines over SSH: a TOML file listing the
    /// hosts (address, user, port, key; see README "Remote hosts over
    /// SSH"). One kvnode group or the sharded stack (--groups); member k of
    /// the run on host (k-1) mod H, port 7400+k-1.
    #[arg(long, value_name = "FILE")]
    pub hosts: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// History files or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub format: Option<String>,
    /// Time budget in seconds; when it runs out the verdict is unknown.
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Memory cap in MB for one partition's search memo; reaching it gives unknown.
    #[arg(long, default_value_t = 4096)]
    pub max_memory: usize,
    /// Check every partition even after one is invalid.
    #[arg(long)]
    pub all: bool,
    /// Check the whole history as one partition.
    #[arg(long)]
    pub no_partition: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Target {
    Raft,
}

#[derive(Debug, Args)]
pub struct ModelArgs {
    #[arg(value_enum)]
    pub target: Target,
    #[arg(long)]
    pub servers: Option<usize>,
    #[arg(long)]
    pub max_term: Option<u64>,
    #[arg(long)]
    pub max_log: Option<usize>,
    #[arg(long)]
    pub crashes: Option<usize>,
    /// Client proposals (writes of distinct values) per behaviour.
    #[arg(long)]
    pub proposals: Option<u8>,
    /// Client ReadIndex reads per behaviour.
    #[arg(long)]
    pub reads: Option<u8>,
    /// Election timeouts (campaigns) per behaviour (default: only
    /// --max-term bounds them).
    #[arg(long)]
    pub elections: Option<u8>,
    /// Leader heartbeat timeouts per behaviour (default 0; 1 with --lossy).
    #[arg(long)]
    pub heartbeats: Option<u8>,
    /// The network may lose any message (and leaders get heartbeat
    /// timeouts to recover, see --heartbeats).
    #[arg(long)]
    pub lossy: bool,
    #[arg(long)]
    pub duplicating: bool,
    /// Run the cores with PreVote on, as the nodes do (--elections then
    /// defaults to --max-term + 1).
    #[arg(long)]
    pub prevote: bool,
    /// Membership changes per behaviour: a leader may propose adding any
    /// server outside its voters or removing any voter (default 0: none).
    #[arg(long)]
    pub conf_changes: Option<u8>,
    /// Servers that start outside the group and may be added (default 1
    /// with --conf-changes, else 0).
    #[arg(long)]
    pub spares: Option<usize>,
    #[arg(long)]
    pub bug: Option<String>,
    /// Search: `bfs` (exhaustive, shortest traces), `dfs` (exhaustive,
    /// little memory) or `simulate` (seeded random walks, not exhaustive:
    /// for counterexamples deeper than exhaustive search reaches).
    #[arg(long, default_value = "bfs", value_parser = ["bfs", "dfs", "simulate"])]
    pub strategy: String,
    /// Seed of `--strategy simulate` (default: random, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop after generating this many states (simulate: default 20000000).
    #[arg(long)]
    pub max_states: Option<usize>,
    /// Do not explore beyond this many steps (depth-bounded search; the
    /// run is then incomplete if anything lies deeper).
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// Turn off symmetry reduction over server ids.
    #[arg(long)]
    pub no_symmetry: bool,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub explore: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    #[arg(value_enum)]
    pub target: Target,
    /// How many seeds to run (from --seed upwards).
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// First seed (default: random, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long, default_value_t = 5)]
    pub servers: usize,
    /// Steps per seed; a step is one event: a tick of one node, one message
    /// delivery, one client operation or one fault action.
    #[arg(long, default_value_t = 10_000)]
    pub steps: u64,
    #[arg(long)]
    pub bug: Option<String>,
    /// How leaders serve reads: read-index, or lease (leader leases).
    #[arg(long, default_value = "read-index")]
    pub read_mode: String,
    /// Clock drift bound in percent: every node's clock rate is drawn within
    /// 100 ± PCT % and lease cores allow for it (default: 20 with
    /// --read-mode lease, else 0: exact clocks).
    #[arg(long, value_name = "PCT")]
    pub clock_drift: Option<u32>,
    /// Membership changes: an operator asks leaders to add and remove
    /// servers (single-server changes), often right after an election.
    #[arg(long)]
    pub conf_changes: bool,
    /// Nodes beyond --servers that start outside the group and may be
    /// added (default 1 with --conf-changes, else 0).
    #[arg(long)]
    pub spares: Option<usize>,
    /// Worker threads (default: all cores); results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Closed-loop load against a KV cluster.
    Kv(BenchKvArgs),
    /// Generate a random linearizable history and check it.
    Checker(BenchCheckerArgs),
}

#[derive(Debug, Args)]
pub struct BenchKvArgs {
    #[arg(long, value_enum, default_value = "faultline")]
    pub db: BenchDb,
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// kvnode's read mode: read-index or lease.
    #[arg(long, default_value = "read-index")]
    pub read_mode: String,
    /// Percent of operations that are Gets (the rest are Puts).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub reads: u8,
    #[arg(long)]
    pub json: bool,
    /// Run each kvnode's data directory on a faultline-diskfs FUSE mount
    /// (the disk-fault layer of `--nemesis power`), to measure its cost.
    /// Needs root and /dev/fuse.
    #[arg(long)]
    pub diskfs: bool,
}

#[derive(Debug, Args)]
pub struct BenchCheckerArgs {
    #[arg(long, default_value_t = 100_000)]
    pub ops: usize,
    #[arg(long, default_value_t = 100)]
    pub keys: usize,
    #[arg(long, default_value_t = 8)]
    pub procs: usize,
    #[arg(long, default_value_t = 0.01)]
    pub info_rate: f64,
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 the run is valid, 1 invalid (a violation was found), 2 unknown or \
                  interrupted, or the run folder is missing or malformed (the message names the file)."
)]
pub struct ReportArgs {
    pub run_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
}

#[derive(Debug, Args)]
pub struct BugsArgs {
    #[arg(long)]
    pub json: bool,
    /// Print `NAME<TAB>COMMAND` per bug: the command the bug matrix runs.
    #[arg(long, conflicts_with = "json")]
    pub commands: bool,
}

/// `faultline nightly` options.
#[derive(Debug, Args)]
#[command(after_help = "\
Each run is `faultline run` (a child process) with a seed derived from --seed and the
configuration's name, printed and recorded. Network faults (partition, clock, packet, all)
need nodes in network namespaces (root, ip, iptables); on loopback (or with --no-netns)
those configurations are skipped and the summary says why.

Exit codes: 0 every run valid, 1 some run invalid, 2 none invalid but some unknown or
failed, nothing could run, interrupted, or bad options.")]
pub struct NightlyArgs {
    /// The store: run folders, `nightly/<stamp>.json` summaries, index.html.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// Seconds of workload per run (a run takes this plus startup, recovery
    /// and the check: measured 5-35 s more, up to --check-timeout more).
    #[arg(long, default_value_t = 30)]
    pub time_limit: u64,
    /// Runs per configuration.
    #[arg(long, default_value_t = 1)]
    pub test_count: usize,
    /// Workloads of the matrix, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "register,append"
    )]
    pub workloads: Vec<Workload>,
    /// Nemesis configurations, comma-separated: `none`, `all`, a package, or
    /// packages joined by `+` (`kill+pause`).
    #[arg(long, value_delimiter = ',', default_value = crate::commands::nightly::DEFAULT_NEMESIS)]
    pub nemesis: Vec<String>,
    /// Base seed (default: random, printed); each run's seed is derived from it.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Plant a bug in every run (see `faultline bugs`).
    #[arg(long)]
    pub bug: Option<String>,
    /// Seconds between two faults of one nemesis package.
    #[arg(long, default_value_t = 5.0)]
    pub nemesis_interval: f64,
    /// Time budget of each run's linearizability check in seconds (then:
    /// unknown). Lower than `faultline run`'s 120 s to bound a nightly.
    #[arg(long, default_value_t = 60.0)]
    pub check_timeout: f64,
    /// Run every node on loopback (network configurations are skipped).
    #[arg(long)]
    pub no_netns: bool,
}
