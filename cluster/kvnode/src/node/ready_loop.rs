//! The Ready loop: the one thread that owns the Raft core, the storage and
//! the state machine. Each round it
//! 1. waits for input until the next tick is due, then drains every queued
//!    event (Raft batches, client requests), so all proposals that arrived
//!    during the previous fsync go into ONE Ready and one fsync;
//! 2. ticks the core when a tick is due (lease mode: every tick due, see
//!    `tick_clock`), and starts one ReadIndex round for
//!    all Gets collected this round;
//! 3. handles Ready batches in the order of `faultline_raft::node`: send
//!    `messages` (one frame per peer), persist and fsync, send
//!    `persisted_messages`, restore a received snapshot, apply
//!    `committed_entries` (answering their waiters), `advance`, then serve
//!    reads whose read index is applied;
//! 4. snapshots and compacts the log when it passed the size threshold.
//!
//! A proposal waits on (index, term): when the entry at its index applies
//! with its term, the reply is the state machine's; with another term the
//! proposal was certainly overwritten and the client is told `NotLeader`. A
//! leader that steps down tells its waiting writers `LostLeadership` (their
//! fate is unknown; they retry with the same sequence, and the session table
//! keeps that exactly-once).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use faultline_raft::{EntryKind, Message, NodeId, RaftError, RawNode, ReadMode, Ready, Role};

use super::tick_clock::{TickClock, TickSource};
use crate::bugs::KvBug;

use super::address_book::{AddressBook, NodeSnapshot};
use super::error::NodeError;
use super::events::{Event, Responder};
use super::machine::{Admission, Machine};
use super::membership::AdminWaiter;
use super::protocol::{ClientRequest, ClientResponse};
use super::status::LiveStatus;
use super::waiters::{ReadWaiter, Waiters};
use crate::node::config::NodeConfig;
use crate::rpc::{PeerSender, RpcConfig};
use crate::storage::Storage;

/// Most events handled before the loop turns to the Ready.
const MAX_EVENTS_PER_ROUND: usize = 4096;
/// A ReadIndex round unanswered for this long is given up.
const READ_ROUND_MAX_AGE: Duration = Duration::from_secs(5);

/// The loop's state. Built by `server`, run on its own thread.
pub struct ReadyLoop {
    pub(crate) cfg: NodeConfig,
    pub(crate) raw: RawNode,
    pub(crate) storage: Storage,
    /// The replicated state machine (KV, shard controller, ...).
    pub(crate) kv: Box<dyn Machine>,
    pub(crate) peers: BTreeMap<NodeId, PeerSender>,
    pub(crate) live: Arc<LiveStatus>,
    pub(crate) rx: Receiver<Event>,
    pub(crate) waiters: Waiters,
    pub(crate) gets: Vec<ReadWaiter>,
    pub(crate) next_ctx: u64,
    pub(crate) was_leader: bool,
    /// Where every known member listens (`--peers` plus added members).
    pub(crate) addresses: AddressBook,
    /// Admin requests waiting for their change to commit.
    pub(crate) admin_waiters: Vec<AdminWaiter>,
    /// For peer senders of members added while running.
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) rpc_cfg: RpcConfig,
}

impl ReadyLoop {
    /// Run until `Shutdown` or until every sender is gone. An error means
    /// the node must stop (storage failure): the process exits non-zero.
    pub fn run(mut self) -> Result<(), NodeError> {
        let mut clock = TickClock::new(
            self.tick_source(),
            self.cfg.tick,
            u64::from(self.cfg.election_ticks),
        );
        let mut ticks: u64 = 0;
        self.update_status();
        loop {
            let mut stop = false;
            if clock.paced() {
                match self.rx.recv_timeout(clock.wait()) {
                    Ok(ev) => stop |= self.handle(ev),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => stop = true,
                }
            } else {
                // Lease mode: the waker thread sends `Wake` every half tick.
                match self.rx.recv() {
                    Ok(ev) => stop |= self.handle(ev),
                    Err(_) => stop = true,
                }
            }
            for _ in 0..MAX_EVENTS_PER_ROUND {
                match self.rx.try_recv() {
                    Ok(ev) => stop |= self.handle(ev),
                    Err(_) => break,
                }
            }
            if stop {
                tracing::info!("ready loop stopping");
                self.waiters
                    .fail_all(self.raw.leader().filter(|&l| l != self.cfg.id));
                return Ok(());
            }
            // Lease mode: every due tick before any read is served.
            for _ in 0..clock.due() {
                self.raw.tick();
                ticks += 1;
                if ticks.is_multiple_of(100) {
                    self.waiters.expire_rounds(READ_ROUND_MAX_AGE);
                }
            }
            self.start_read_round();
            while self.raw.has_ready() {
                let ready = self.raw.ready();
                self.handle_ready(ready)?;
            }
            self.maybe_compact()?;
            self.update_status();
        }
    }

    /// Which clock the core's ticks (and so its lease) are counted on.
    fn tick_source(&self) -> TickSource {
        match self.cfg.read_mode {
            ReadMode::ReadIndex => TickSource::Paced,
            ReadMode::Lease if self.cfg.bugs.has(KvBug::LeaseWallClock) => TickSource::Wall,
            ReadMode::Lease => TickSource::Monotonic,
        }
    }

    fn update_status(&self) {
        self.live.update(&self.raw, self.kv.applied());
        if let Some((num, shards)) = self.kv.shard_status() {
            self.live.set_shards(num, shards);
        }
    }

    /// Handle one event; true when it asks the loop to stop.
    fn handle(&mut self, ev: Event) -> bool {
        match ev {
            Event::Raft { from, messages } => {
                for msg in messages {
                    if let Err(e) = self.raw.step(msg) {
                        match e {
                            RaftError::SafetyViolation { .. } => {
                                tracing::error!(from, error = %e, "safety violation")
                            }
                            _ => tracing::debug!(from, error = %e, "message refused"),
                        }
                    }
                }
                false
            }
            Event::Client { request, respond } => {
                self.client_request(request, respond);
                false
            }
            Event::Admin { request, respond } => {
                self.admin_request(request, respond);
                false
            }
            Event::Shutdown => true,
            Event::Wake => false,
        }
    }

    fn wrong_leader(&self) -> ClientResponse {
        ClientResponse::NotLeader {
            leader: self.raw.leader().filter(|&l| l != self.cfg.id),
        }
    }

    fn client_request(&mut self, request: ClientRequest, respond: Responder) {
        if !self.is_member() {
            // Planted bug removed-still-serves: a node outside the group
            // answers Gets from its own state, which no longer learns writes.
            if let (true, crate::kv::Op::Get { key }) =
                (self.cfg.bugs.has(KvBug::RemovedStillServes), &request.op)
            {
                let _ = respond.send(self.kv.read(key));
                return;
            }
            let _ = respond.send(ClientResponse::NotMember {
                leader: self.raw.leader().filter(|&l| l != self.cfg.id),
            });
            return;
        }
        if self.raw.role() != Role::Leader {
            let _ = respond.send(self.wrong_leader());
            return;
        }
        let (data, ack_now) = match self.kv.admit(request) {
            Admission::Respond(response) => {
                let _ = respond.send(response);
                return;
            }
            Admission::Read { key } => {
                self.gets.push(ReadWaiter { key, respond });
                return;
            }
            Admission::Propose { data, ack_now } => (data, ack_now),
        };
        match self.raw.propose(data) {
            Ok(index) => match ack_now {
                Some(response) => {
                    let _ = respond.send(response);
                }
                None => self.waiters.add_proposal(index, self.raw.term(), respond),
            },
            Err(RaftError::NotLeader { .. }) => {
                let _ = respond.send(self.wrong_leader());
            }
            Err(e) => {
                let _ = respond.send(ClientResponse::Unavailable(e.to_string()));
            }
        }
    }

    /// One ReadIndex round for every Get collected this round.
    fn start_read_round(&mut self) {
        if self.gets.is_empty() {
            return;
        }
        let reads = std::mem::take(&mut self.gets);
        let ctx = self.next_ctx;
        self.next_ctx += 1;
        match self.raw.read_index(ctx.to_be_bytes().to_vec()) {
            Ok(()) => self.waiters.add_round(ctx, reads),
            Err(_) => {
                let wrong = self.wrong_leader();
                for r in reads {
                    let _ = r.respond.send(wrong.clone());
                }
            }
        }
    }

    fn send(&self, messages: Vec<Message>) {
        if messages.is_empty() {
            return;
        }
        let mut by_peer: BTreeMap<NodeId, Vec<Message>> = BTreeMap::new();
        for m in messages {
            by_peer.entry(m.to).or_default().push(m);
        }
        for (to, batch) in by_peer {
            match self.peers.get(&to) {
                Some(sender) => {
                    sender.send(batch);
                }
                None => tracing::warn!(to, "message for an unknown peer dropped"),
            }
        }
    }

    fn handle_ready(&mut self, mut ready: Ready) -> Result<(), NodeError> {
        if let Some(soft) = &ready.soft_state {
            let leader = soft.role == Role::Leader;
            if leader != self.was_leader {
                tracing::info!(role = ?soft.role, leader = ?soft.leader, term = self.raw.term(), "role changed");
            }
            if self.was_leader && !leader {
                self.fail_admin_waiters();
                self.waiters.fail_all(soft.leader);
                let wrong = self.wrong_leader();
                for r in self.gets.drain(..) {
                    let _ = r.respond.send(wrong.clone());
                }
            }
            self.was_leader = leader;
        }
        // Members added by these entries (or known to this snapshot) may be
        // the addressees of this Ready's messages.
        self.learn_addresses(&ready.entries);
        let snapshot = match &ready.snapshot {
            Some(s) => Some(NodeSnapshot::decode(&s.data)?),
            None => None,
        };
        if let Some(s) = &snapshot {
            for (&id, addr) in &s.addresses {
                self.learn_address(id, addr.clone());
            }
        }
        self.send(std::mem::take(&mut ready.messages));
        if ready.hard_state.is_some() || !ready.entries.is_empty() || ready.snapshot.is_some() {
            self.storage.persist(
                ready.hard_state.as_ref(),
                &ready.entries,
                ready.snapshot.as_ref(),
            )?;
        }
        self.send(std::mem::take(&mut ready.persisted_messages));
        if let (Some(meta), Some(s)) = (ready.snapshot.as_ref().map(|s| &s.meta), &snapshot) {
            self.kv.restore(&s.machine)?;
            tracing::info!(index = meta.index, "installed snapshot");
            self.waiters
                .fail_proposals_upto(meta.index, self.raw.leader());
        }
        // `advance` needs `committed_entries` (it sets the core's applied index).
        for entry in &ready.committed_entries {
            if entry.index <= self.kv.applied() {
                continue;
            }
            let outcome = match entry.kind {
                EntryKind::Noop => {
                    self.kv.apply_noop(entry.index);
                    None
                }
                // A membership change carries no command for the machine.
                EntryKind::ConfChange(_) => {
                    self.kv.apply_noop(entry.index);
                    self.change_applied(entry);
                    None
                }
                EntryKind::Normal => Some(self.kv.apply(entry.index, &entry.data)),
            };
            if let Some(w) = self.waiters.take_proposal(entry.index) {
                let response = match (w.term == entry.term, outcome) {
                    (true, Some(response)) => response,
                    _ => self.wrong_leader(),
                };
                let _ = w.respond.send(response);
            }
        }
        let read_states = std::mem::take(&mut ready.read_states);
        self.raw.advance(ready);
        for rs in read_states {
            if let Ok(ctx) = <[u8; 8]>::try_from(rs.ctx.as_slice()) {
                self.waiters.round_done(u64::from_be_bytes(ctx), rs.index);
            }
        }
        for r in self.waiters.servable_reads(self.kv.applied()) {
            let _ = r.respond.send(self.kv.read(&r.key));
        }
        Ok(())
    }

    /// Snapshot the state machine and compact the log once it holds more
    /// than `snapshot_entries` applied entries after the last snapshot.
    fn maybe_compact(&mut self) -> Result<(), NodeError> {
        let applied = self.kv.applied();
        let snap_index = self.raw.snapshot().meta.index;
        if applied <= snap_index || applied - snap_index < self.cfg.snapshot_entries {
            return Ok(());
        }
        if applied > self.raw.applied() || applied < self.raw.first_index() {
            return Ok(());
        }
        let data = NodeSnapshot {
            addresses: self.addresses.clone(),
            machine: self.kv.snapshot()?,
        }
        .encode()?;
        self.raw.compact(applied, data)?;
        let snapshot = self.raw.snapshot().clone();
        self.storage.persist(None, &[], Some(&snapshot))?;
        tracing::info!(
            index = applied,
            bytes = snapshot.data.len(),
            "snapshot taken, log compacted"
        );
        Ok(())
    }
}
