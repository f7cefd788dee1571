//! `kvnode`: one member of a replicated KV group as a process. It serves
//! clients, peers and status requests on `--listen`, keeps its state under
//! `--data`, logs to stderr (timestamp, node id, role and term on every
//! line) and exits cleanly (status 0) on SIGTERM or SIGINT. A node that cannot
//! start (e.g. a corrupt WAL record) or whose storage fails exits with
//! status 1 and says why.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use faultline_kvnode::bugs::NodeBugs;
use faultline_kvnode::node::logging::NodeLogFormat;
use faultline_kvnode::node::status::LiveStatus;
use faultline_kvnode::node::{self, NodeConfig, NodeRole};
use faultline_kvnode::shard::ShardBug;
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "kvnode",
    about = "One member of a faultline replicated KV group"
)]
struct Args {
    /// This node's id (a positive integer, one of --peers).
    #[arg(long)]
    id: u64,
    /// The group this node belongs to.
    #[arg(long, default_value_t = 0)]
    group: u64,
    /// Every member of the group: id=host:port,... (this node included).
    #[arg(long)]
    peers: String,
    /// Join a running group whose initial voters are these ids (comma
    /// separated): --peers then lists the address of every member now (this
    /// node included), not the initial voters. This node starts with an
    /// empty data directory, catches up from the leader and votes once a
    /// change adding it (admin AddMember) is in its log.
    #[arg(long)]
    join: Option<String>,
    /// Address to serve peers, clients and status on (default: own --peers entry).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data directory (WAL, hard state, snapshot).
    #[arg(long)]
    data: PathBuf,
    /// Planted bug to enable (repeatable); `faultline bugs` lists them.
    #[arg(long = "bug")]
    bugs: Vec<String>,
    /// Snapshot and compact the log every this many applied entries.
    #[arg(long, default_value_t = node::config::DEFAULT_SNAPSHOT_ENTRIES)]
    snapshot_entries: u64,
    /// Tick interval in milliseconds.
    #[arg(long, default_value_t = 10)]
    tick_ms: u64,
    /// Election timeout base in ticks (timeouts are drawn from [n, 2n)).
    #[arg(long, default_value_t = node::config::DEFAULT_ELECTION_TICKS)]
    election_ticks: u32,
    /// Heartbeat interval in ticks.
    #[arg(long, default_value_t = node::config::DEFAULT_HEARTBEAT_TICKS)]
    heartbeat_ticks: u32,
    /// Largest RPC frame accepted, in bytes.
    #[arg(long, default_value_t = faultline_kvnode::rpc::DEFAULT_MAX_FRAME_SIZE)]
    max_frame_size: u32,
    /// Bound on client sessions (must be equal on every member).
    #[arg(long, default_value_t = faultline_kvnode::kv::DEFAULT_MAX_SESSIONS)]
    max_sessions: usize,
    /// The state machine to run: kv (key/value store), ctrler (shard
    /// controller) or shardkv (a shard group; its gid is --group).
    #[arg(long, default_value = "kv")]
    role: NodeRole,
    /// Number of shards (shard controller; equal on every member).
    #[arg(long, default_value_t = faultline_kvnode::shard::DEFAULT_SHARDS)]
    shards: usize,
    /// The shard controller's members, id=host:port,... (role shardkv).
    #[arg(long)]
    ctrlers: Option<String>,
    /// How the leader serves Gets: read-index (a heartbeat round per batch)
    /// or lease (locally, inside a leader lease measured on the monotonic
    /// clock).
    #[arg(long, default_value = "read-index")]
    read_mode: String,
    /// Lease mode: the bound on clock rate drift, in percent, that the lease
    /// is shortened for.
    #[arg(long, value_name = "PCT", default_value_t = faultline_raft::DEFAULT_MAX_CLOCK_DRIFT_PCT)]
    clock_drift: u32,
}

/// How many --peers entries name another node.
fn peers_len_without_self(cfg: &NodeConfig) -> usize {
    cfg.peers.keys().filter(|&&id| id != cfg.id).count()
}

fn parse_peers(spec: &str) -> Result<BTreeMap<u64, SocketAddr>> {
    let mut peers = BTreeMap::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let (id, addr) = part
            .split_once('=')
            .with_context(|| format!("--peers entry {part:?} is not id=host:port"))?;
        let id: u64 = id
            .trim()
            .parse()
            .with_context(|| format!("--peers entry {part:?}: bad id"))?;
        let addr: SocketAddr = addr
            .trim()
            .parse()
            .with_context(|| format!("--peers entry {part:?}: bad address"))?;
        if id == 0 {
            bail!("--peers entry {part:?}: ids start at 1");
        }
        if peers.insert(id, addr).is_some() {
            bail!("--peers names id {id} twice");
        }
    }
    if peers.is_empty() {
        bail!("--peers is empty");
    }
    Ok(peers)
}

fn config(args: &Args) -> Result<NodeConfig> {
    let peers = parse_peers(&args.peers)?;
    let Some(&own) = peers.get(&args.id) else {
        bail!("--peers does not name this node's id {}", args.id);
    };
    if args.tick_ms == 0 || args.election_ticks < 2 || args.heartbeat_ticks == 0 {
        bail!("--tick-ms and --heartbeat-ticks must be at least 1, --election-ticks at least 2");
    }
    if args.heartbeat_ticks >= args.election_ticks {
        bail!("--heartbeat-ticks must be below --election-ticks");
    }
    let mut cfg = NodeConfig::new(
        args.id,
        args.group,
        peers,
        args.listen.unwrap_or(own),
        args.data.clone(),
    );
    let (shard_bugs, other_bugs): (Vec<&String>, Vec<&String>) = args
        .bugs
        .iter()
        .partition(|b| b.parse::<ShardBug>().is_ok());
    cfg.bugs = NodeBugs::parse(&other_bugs)?;
    cfg.shard_bugs = shard_bugs.iter().filter_map(|b| b.parse().ok()).collect();
    cfg.read_mode = args
        .read_mode
        .parse()
        .map_err(|e| anyhow::anyhow!("--read-mode: {e}"))?;
    cfg.max_clock_drift_pct = args.clock_drift;
    let lease_bug = cfg
        .bugs
        .kv
        .iter()
        .find(|b| b.needs_lease())
        .map(|b| b.name())
        .or_else(|| {
            cfg.bugs
                .raft
                .iter()
                .find(|b| b.needs_lease())
                .map(|b| b.name())
        });
    if let Some(bug) = lease_bug
        && cfg.read_mode != faultline_raft::ReadMode::Lease
    {
        bail!("--bug {bug} needs --read-mode lease");
    }
    if let Some(spec) = &args.join {
        let ids = spec
            .split(',')
            .map(|s| s.trim().parse::<u64>())
            .collect::<Result<Vec<u64>, _>>()
            .with_context(|| format!("--join {spec:?} is not a list of node ids, e.g. 1,2,3"))?;
        if ids.is_empty() || ids.contains(&args.id) {
            bail!(
                "--join names the group's initial voters, which must not include this node's id {}",
                args.id
            );
        }
        if peers_len_without_self(&cfg) == 0 {
            bail!("--join needs the members' addresses in --peers besides this node");
        }
        cfg.initial_voters = Some(ids);
    }
    cfg.snapshot_entries = args.snapshot_entries.max(1);
    cfg.tick = Duration::from_millis(args.tick_ms);
    cfg.election_ticks = args.election_ticks;
    cfg.heartbeat_ticks = args.heartbeat_ticks;
    cfg.max_frame_size = args.max_frame_size;
    cfg.max_sessions = args.max_sessions.max(1);
    cfg.role = args.role;
    if args.shards == 0 {
        bail!("--shards must be at least 1");
    }
    cfg.nshards = args.shards;
    if args.role == NodeRole::ShardKv {
        let Some(ctrlers) = &args.ctrlers else {
            bail!("--role shardkv needs --ctrlers");
        };
        if args.group == 0 {
            bail!("--role shardkv needs --group (the gid, at least 1)");
        }
        cfg.ctrlers = parse_peers(ctrlers)?
            .into_iter()
            .map(|(id, a)| (id, a.to_string()))
            .collect();
    }
    Ok(cfg)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let live = Arc::new(LiveStatus::new(args.id, args.group));
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(NodeLogFormat { live: live.clone() })
        .init();
    let cfg = config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(serve(cfg, live))
}

async fn serve(cfg: NodeConfig, live: Arc<LiveStatus>) -> Result<()> {
    let (id, listen, data) = (cfg.id, cfg.listen, cfg.data_dir.clone());
    if !cfg.bugs.kv.is_empty() || !cfg.bugs.raft.is_empty() || !cfg.shard_bugs.is_empty() {
        tracing::warn!(kv = ?cfg.bugs.kv, raft = ?cfg.bugs.raft, shardkv = ?cfg.shard_bugs, "PLANTED BUGS ENABLED");
    }
    let handle = match node::start(cfg, live).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return Err(e).with_context(|| format!("kvnode {id} ({})", data.display()));
        }
    };
    tracing::info!(%listen, "serving");
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut check = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM: stopping"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: stopping"); break; }
            _ = check.tick() => if handle.loop_finished() { break; },
        }
    }
    let result = handle.stop().await;
    match &result {
        Ok(()) => tracing::info!("stopped"),
        Err(e) => tracing::error!(error = %e, "stopped on an error"),
    }
    result.context("kvnode")
}
