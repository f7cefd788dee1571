//! Starting a kvnode: open the data directory, restore the state machine
//! from the snapshot on disk, start the Raft core, the RPC server and one
//! peer sender per peer, then run the Ready loop on its own thread until
//! SIGTERM (or `NodeHandle::stop`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::{self, Sender};

use faultline_raft::{Config, Message, NodeId, RawNode};
use tokio::sync::oneshot;

use super::address_book::{AddressBook, NodeSnapshot, learned_from};
use super::admin::{AdminRequest, AdminResponse};
use super::config::NodeConfig;
use super::config::NodeRole;
use super::ctrler_machine::CtrlerMachine;
use super::error::NodeError;
use super::events::Event;
use super::kv_machine::KvMachine;
use super::machine::Machine;
use super::protocol::{ClientRequest, ClientResponse};
use super::ready_loop::ReadyLoop;
use super::shardkv_machine::ShardKvMachine;
use super::status::LiveStatus;
use super::waiters::Waiters;
use crate::bugs::KvBug;
use crate::kv::{KvStore, Sessions};
use crate::rpc::{self, Handler, Identity, PeerSender, RpcConfig, Server};
use crate::shard::{CtrlerState, ShardKv};
use crate::storage::{Storage, StorageOptions};

/// The RPC handler: hands everything to the Ready loop's channel.
struct NodeHandler {
    events: Sender<Event>,
    live: Arc<LiveStatus>,
}

impl Handler for NodeHandler {
    fn raft(&self, from: NodeId, messages: Vec<Message>) {
        let _ = self.events.send(Event::Raft { from, messages });
    }

    async fn request(&self, _from: Identity, payload: Vec<u8>) -> Vec<u8> {
        let response = match rpc::decode_payload::<ClientRequest>(&payload) {
            Err(e) => ClientResponse::Unavailable(format!("bad request: {e}")),
            Ok(request) => {
                let (respond, answer) = oneshot::channel();
                if self
                    .events
                    .send(Event::Client { request, respond })
                    .is_err()
                {
                    ClientResponse::Unavailable("node is stopping".into())
                } else {
                    answer
                        .await
                        .unwrap_or_else(|_| ClientResponse::Unavailable("node is stopping".into()))
                }
            }
        };
        rpc::encode_payload(&response).unwrap_or_default()
    }

    fn status(&self) -> String {
        self.live.json()
    }

    async fn admin(&self, _from: Identity, payload: Vec<u8>) -> Vec<u8> {
        let response = match rpc::decode_payload::<AdminRequest>(&payload) {
            Err(e) => AdminResponse::Refused(format!("bad admin request: {e}")),
            Ok(request) => {
                let (respond, answer) = oneshot::channel();
                if self.events.send(Event::Admin { request, respond }).is_err() {
                    AdminResponse::Retry("node is stopping".into())
                } else {
                    answer
                        .await
                        .unwrap_or_else(|_| AdminResponse::Retry("node is stopping".into()))
                }
            }
        };
        rpc::encode_payload(&response).unwrap_or_default()
    }
}

/// A running node inside this process.
pub struct NodeHandle {
    events: Sender<Event>,
    server: Server,
    ready_loop: std::thread::JoinHandle<Result<(), NodeError>>,
    /// The shard group leader's migration task (role shardkv).
    duties: Option<tokio::task::JoinHandle<()>>,
    pub live: Arc<LiveStatus>,
}

impl NodeHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Ask the Ready loop to stop, wait for it, then close the server.
    /// Returns the loop's error if it had stopped on one.
    pub async fn stop(self) -> Result<(), NodeError> {
        if let Some(duties) = &self.duties {
            duties.abort();
        }
        let _ = self.events.send(Event::Shutdown);
        let handle = self.ready_loop;
        let result = tokio::task::spawn_blocking(move || handle.join())
            .await
            .map_err(|e| NodeError::Config(format!("joining the ready loop: {e}")))?;
        self.server.shutdown().await;
        match result {
            Ok(r) => r,
            Err(_) => Err(NodeError::Config("the ready loop panicked".into())),
        }
    }

    /// Whether the Ready loop has ended (a storage error stops it).
    pub fn loop_finished(&self) -> bool {
        self.ready_loop.is_finished()
    }
}

/// Open storage, restore state and start serving; the loop keeps `live`
/// up to date (the log formatter reads it). Must run inside a tokio runtime
/// (peer senders and the server are tasks).
pub async fn start(cfg: NodeConfig, live: Arc<LiveStatus>) -> Result<NodeHandle, NodeError> {
    if !cfg.peers.contains_key(&cfg.id) {
        return Err(NodeError::Config(format!(
            "--peers must include this node's own id {}",
            cfg.id
        )));
    }
    let (mut storage, persisted) = Storage::open(&cfg.data_dir, StorageOptions::default())?;
    if cfg.bugs.has(KvBug::NoFsync) {
        tracing::warn!("planted bug no-fsync: WAL writes are not fsynced");
        storage.plant_no_fsync();
    }
    let mut kv: Box<dyn Machine> = match cfg.role {
        NodeRole::Kv => Box::new(KvMachine {
            store: KvStore::new(
                Sessions::new(cfg.max_sessions, cfg.session_idle_entries),
                cfg.bugs.has(KvBug::NoDedup),
            ),
            stale_read: cfg.bugs.has(KvBug::StaleRead),
            ack_before_commit: cfg.bugs.has(KvBug::AckBeforeCommit),
        }),
        NodeRole::Ctrler => Box::new(CtrlerMachine {
            state: CtrlerState::new(cfg.nshards),
        }),
        NodeRole::ShardKv => Box::new(ShardKvMachine {
            state: ShardKv::new(cfg.group, cfg.nshards, cfg.shard_bugs.clone()),
        }),
    };
    let mut addresses: AddressBook = cfg
        .peers
        .iter()
        .map(|(&id, a)| (id, a.to_string()))
        .collect();
    if let Some(snapshot) = &persisted.snapshot {
        let s = NodeSnapshot::decode(&snapshot.data)?;
        kv.restore(&s.machine)?;
        addresses.extend(s.addresses);
    }
    addresses.extend(persisted.entries.iter().filter_map(learned_from));
    tracing::info!(
        term = persisted.hard_state.term,
        commit = persisted.hard_state.commit,
        snapshot = persisted.snapshot.as_ref().map_or(0, |s| s.meta.index),
        entries = persisted.entries.len(),
        "recovered from disk"
    );
    let initial_voters = cfg
        .initial_voters
        .clone()
        .unwrap_or_else(|| cfg.peers.keys().copied().collect());
    let mut raft_cfg = Config::new(
        cfg.id,
        initial_voters,
        cfg.id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ super::status::wall_clock_ms(),
    );
    raft_cfg.election_tick = cfg.election_ticks;
    raft_cfg.heartbeat_tick = cfg.heartbeat_ticks;
    raft_cfg.max_entries_per_msg = 1024;
    raft_cfg.max_inflight = 64;
    raft_cfg.bugs = cfg.bugs.raft.clone();
    raft_cfg.read_mode = cfg.read_mode;
    raft_cfg.max_clock_drift_pct = cfg.max_clock_drift_pct;
    let raw = RawNode::new(raft_cfg, persisted)?;

    let rpc_cfg = RpcConfig {
        max_frame_size: cfg.max_frame_size,
        ..RpcConfig::default()
    };
    let (events, rx) = mpsc::channel();
    let handler = Arc::new(NodeHandler {
        events: events.clone(),
        live: live.clone(),
    });
    let server = Server::bind(cfg.listen, Identity::Peer(cfg.id), rpc_cfg.clone(), handler).await?;
    let peers: BTreeMap<NodeId, PeerSender> = addresses
        .iter()
        .filter(|(id, _)| **id != cfg.id)
        .map(|(&id, addr)| {
            (
                id,
                PeerSender::spawn(cfg.id, id, addr.to_string(), rpc_cfg.clone()),
            )
        })
        .collect();
    let duties = (cfg.role == NodeRole::ShardKv).then(|| {
        tokio::spawn(super::shard_duties::run(
            server.local_addr().to_string(),
            cfg.ctrlers.clone(),
            live.clone(),
        ))
    });
    if cfg.read_mode == faultline_raft::ReadMode::Lease {
        spawn_waker(events.clone(), cfg.tick / 2)?;
    }
    let ready_loop = ReadyLoop {
        cfg,
        raw,
        storage,
        kv,
        peers,
        live: live.clone(),
        rx,
        waiters: Waiters::default(),
        gets: Vec::new(),
        next_ctx: 0,
        was_leader: false,
        addresses,
        admin_waiters: Vec::new(),
        runtime: tokio::runtime::Handle::current(),
        rpc_cfg,
    };
    let ready_loop = std::thread::Builder::new()
        .name("ready-loop".into())
        .spawn(move || ready_loop.run())?;
    Ok(NodeHandle {
        events,
        server,
        ready_loop,
        duties,
        live,
    })
}

/// Lease mode: a thread that wakes the Ready loop every `period` with
/// relative sleeps, so the loop can block without a deadline. std's timed
/// waits (`recv_timeout`) sleep until an absolute `CLOCK_MONOTONIC` time
/// computed from the process's clock; under libfaketime with monotonic
/// faking that clock is on another scale than the kernel's, and such a wait
/// never ends (measured with libfaketime 0.9.10). It ends when the loop is
/// gone.
fn spawn_waker(events: mpsc::Sender<Event>, period: std::time::Duration) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("tick-waker".into())
        .spawn(move || {
            while events.send(Event::Wake).is_ok() {
                std::thread::sleep(period);
            }
        })
        .map(|_| ())
}
