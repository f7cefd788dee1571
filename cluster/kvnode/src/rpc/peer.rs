//! Peer senders: one task per peer that owns the outgoing connection, sends
//! one frame per Ready batch, reconnects with exponential backoff, and drops
//! batches when its bounded queue is full (Raft tolerates message loss).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use faultline_raft::{Message, NodeId};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::config::RpcConfig;
use super::error::{Result, RpcError, io_err};
use super::frame::Frame;
use super::handshake::{self, Identity};
use super::wire;

/// Counters of one peer sender.
#[derive(Debug, Default)]
pub struct PeerCounters {
    /// Batches handed to `send` that were queued.
    pub queued: AtomicU64,
    /// Batches dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Batches written to a connection.
    pub sent: AtomicU64,
    /// Connections established.
    pub connects: AtomicU64,
}

/// The sending side towards one peer. Dropping it stops its task.
#[derive(Debug)]
pub struct PeerSender {
    to: NodeId,
    tx: mpsc::Sender<Vec<Message>>,
    counters: Arc<PeerCounters>,
    task: tokio::task::JoinHandle<()>,
}

impl PeerSender {
    /// Start sending from `from` to peer `to` at `addr` (host:port).
    pub fn spawn(
        from: NodeId,
        to: NodeId,
        addr: impl Into<String>,
        config: RpcConfig,
    ) -> PeerSender {
        let (tx, rx) = mpsc::channel(config.peer_queue.max(1));
        let counters = Arc::new(PeerCounters::default());
        let task = tokio::spawn(run(from, to, addr.into(), config, rx, counters.clone()));
        PeerSender {
            to,
            tx,
            counters,
            task,
        }
    }

    /// Queue one Ready's messages for this peer; `false` when dropped
    /// because the queue is full.
    pub fn send(&self, batch: Vec<Message>) -> bool {
        if batch.is_empty() {
            return true;
        }
        match self.tx.try_send(batch) {
            Ok(()) => {
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                let dropped = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(
                        peer = self.to,
                        dropped,
                        "peer queue full: dropping Raft messages"
                    );
                }
                false
            }
        }
    }

    /// The peer this sender talks to.
    pub fn peer(&self) -> NodeId {
        self.to
    }

    /// Its counters.
    pub fn counters(&self) -> &PeerCounters {
        &self.counters
    }
}

impl Drop for PeerSender {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    from: NodeId,
    to: NodeId,
    addr: String,
    config: RpcConfig,
    mut rx: mpsc::Receiver<Vec<Message>>,
    counters: Arc<PeerCounters>,
) {
    let mut backoff = config.backoff_initial;
    let mut failures = 0u64;
    loop {
        match connect(from, &addr, &config).await {
            Ok(stream) => {
                counters.connects.fetch_add(1, Ordering::Relaxed);
                if failures > 0 {
                    tracing::info!(peer = to, %addr, after_failures = failures, "reconnected to peer");
                }
                backoff = config.backoff_initial;
                failures = 0;
                match pump(stream, &mut rx, &config, &addr, &counters).await {
                    Ok(()) => return, // the node dropped its sender
                    Err(e) => tracing::debug!(peer = to, %addr, error = %e, "peer connection lost"),
                }
            }
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(peer = to, %addr, error = %e, "cannot reach peer; retrying with backoff");
                } else {
                    tracing::debug!(peer = to, %addr, error = %e, failures, "cannot reach peer");
                }
                if rx.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(config.backoff_max);
            }
        }
    }
}

async fn connect(from: NodeId, addr: &str, config: &RpcConfig) -> Result<TcpStream> {
    let mut stream =
        match tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr)).await {
            Ok(r) => r.map_err(io_err("connect to", addr))?,
            Err(_) => {
                return Err(RpcError::Io {
                    op: "connect to",
                    addr: addr.to_string(),
                    source: std::io::ErrorKind::TimedOut.into(),
                });
            }
        };
    let _ = stream.set_nodelay(true);
    handshake::exchange(
        &mut stream,
        Identity::Peer(from),
        config.handshake_timeout,
        addr,
    )
    .await?;
    Ok(stream)
}

/// Send batches until the connection fails (`Err`) or the queue closes (`Ok`).
/// The server never writes after the handshake, so a readable socket means it
/// closed: reconnect at once instead of losing the next batch to a dead socket.
async fn pump(
    stream: TcpStream,
    rx: &mut mpsc::Receiver<Vec<Message>>,
    config: &RpcConfig,
    addr: &str,
    counters: &PeerCounters,
) -> Result<()> {
    let (mut read_half, mut write_half) = stream.into_split();
    let mut buf = Vec::new();
    let mut probe = [0u8; 1];
    loop {
        let first = tokio::select! {
            batch = rx.recv() => match batch {
                Some(b) => b,
                None => return Ok(()),
            },
            read = read_half.read(&mut probe) => {
                return Err(match read {
                    Ok(0) => RpcError::ConnectionClosed(addr.to_string()),
                    Ok(_) => RpcError::Protocol("peer server sent data after the handshake".into()),
                    Err(e) => io_err("read from", addr)(e),
                });
            }
        };
        buf.clear();
        let mut sent = 0;
        let mut next = Some(first);
        while let Some(batch) = next {
            match wire::encode_frame(&Frame::Raft(batch), config.max_frame_size, &mut buf) {
                Ok(()) => sent += 1,
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "dropping a Raft batch that cannot be sent (raise max_frame_size?)")
                }
            }
            next = if buf.len() < 1 << 20 {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if !buf.is_empty() {
            wire::write_all(&mut write_half, &buf, addr).await?;
            counters.sent.fetch_add(sent, Ordering::Relaxed);
        }
    }
}
