//! The client side of a node connection: requests and status queries with
//! request-id matching, per-call timeouts, pipelining over one connection, and
//! a fresh connection on the next call after the old one broke.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::BufReader;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::{mpsc, oneshot};

use super::codec::{decode_payload, encode_payload};
use super::config::RpcConfig;
use super::error::{Result, RpcError, io_err};
use super::frame::{Frame, RequestId};
use super::handshake::{self, Identity};
use super::server::write_frames;
use super::wire;

/// Calls waiting for a response. Once `closed`, no call may wait here: the
/// reader has gone and nobody would ever answer it.
#[derive(Debug, Default)]
struct Waiters {
    closed: bool,
    calls: HashMap<RequestId, oneshot::Sender<Frame>>,
}

type Pending = Arc<Mutex<Waiters>>;

/// One live connection.
#[derive(Debug)]
struct Connection {
    tx: mpsc::Sender<Vec<u8>>,
    pending: Pending,
    reader: tokio::task::JoinHandle<()>,
    writer: tokio::task::JoinHandle<()>,
}

impl Connection {
    fn is_open(&self) -> bool {
        !self.reader.is_finished() && !self.writer.is_finished() && !self.tx.is_closed()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

/// A connection to one node, shared by clones (calls are pipelined).
#[derive(Debug, Clone)]
pub struct Client {
    addr: String,
    identity: Identity,
    config: Arc<RpcConfig>,
    next_id: Arc<AtomicU64>,
    conn: Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>,
}

/// Removes a pending call when the call ends, however it ends.
struct PendingGuard {
    pending: Pending,
    id: RequestId,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if let Ok(mut waiters) = self.pending.lock() {
            waiters.calls.remove(&self.id);
        }
    }
}

impl Client {
    /// A client for the node at `addr` (host:port); connects on first use.
    pub fn new(addr: impl Into<String>, identity: Identity, config: RpcConfig) -> Client {
        Client {
            addr: addr.into(),
            identity,
            config: Arc::new(config),
            next_id: Arc::new(AtomicU64::new(1)),
            conn: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// The address this client talks to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Connect now (calls connect lazily anyway); fails on a bad handshake.
    pub async fn connect(&self) -> Result<()> {
        self.connection().await.map(|_| ())
    }

    /// Send an opaque request and wait at most `timeout` for its response.
    /// On `Timeout` or `ConnectionClosed` the request may or may not have run.
    pub async fn request(&self, payload: Vec<u8>, timeout: Duration) -> Result<Vec<u8>> {
        match self
            .call(|id| Frame::Request { id, payload }, timeout)
            .await?
        {
            Frame::Response { payload, .. } => Ok(payload),
            other => Err(RpcError::Protocol(format!(
                "expected a response, got {}",
                other.kind()
            ))),
        }
    }

    /// [`request`](Self::request) with serde types encoded by the wire codec.
    pub async fn call_typed<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp> {
        let payload = encode_payload(req)?;
        decode_payload(&self.request(payload, timeout).await?)
    }

    /// Send an admin request (encoded by the wire codec) and wait at most
    /// `timeout` for its answer. On `Timeout` or `ConnectionClosed` the
    /// request may or may not have run.
    pub async fn admin_typed<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp> {
        let payload = encode_payload(req)?;
        match self
            .call(|id| Frame::AdminRequest { id, payload }, timeout)
            .await?
        {
            Frame::Response { payload, .. } => decode_payload(&payload),
            other => Err(RpcError::Protocol(format!(
                "expected a response, got {}",
                other.kind()
            ))),
        }
    }

    /// Ask for the node status JSON.
    pub async fn status(&self, timeout: Duration) -> Result<String> {
        match self.call(|id| Frame::StatusRequest { id }, timeout).await? {
            Frame::StatusResponse { json, .. } => Ok(json),
            other => Err(RpcError::Protocol(format!(
                "expected a status response, got {}",
                other.kind()
            ))),
        }
    }

    /// Drop the current connection (the next call reconnects).
    pub async fn disconnect(&self) {
        self.conn.lock().await.take();
    }

    /// Encode the frame (refusing one over the size limit before sending),
    /// then send it and wait for the matching response within `timeout`.
    async fn call(
        &self,
        make: impl FnOnce(RequestId) -> Frame,
        timeout: Duration,
    ) -> Result<Frame> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut bytes = Vec::new();
        wire::encode_frame(&make(id), self.config.max_frame_size, &mut bytes)?;
        let attempt = async {
            let conn = self.connection().await?;
            let (tx, rx) = oneshot::channel();
            {
                let mut waiters = conn
                    .pending
                    .lock()
                    .map_err(|_| RpcError::ConnectionClosed(self.addr.clone()))?;
                if waiters.closed {
                    return Err(RpcError::ConnectionClosed(self.addr.clone()));
                }
                waiters.calls.insert(id, tx);
            }
            let _guard = PendingGuard {
                pending: conn.pending.clone(),
                id,
            };
            conn.tx
                .send(bytes)
                .await
                .map_err(|_| RpcError::ConnectionClosed(self.addr.clone()))?;
            rx.await
                .map_err(|_| RpcError::ConnectionClosed(self.addr.clone()))
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(RpcError::Timeout(timeout)),
        }
    }

    /// The live connection, opening a new one if there is none or it broke.
    async fn connection(&self) -> Result<Arc<Connection>> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref()
            && conn.is_open()
        {
            return Ok(conn.clone());
        }
        slot.take();
        let conn = Arc::new(self.open().await?);
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn open(&self) -> Result<Connection> {
        let addr = self.addr.clone();
        let mut stream = match tokio::time::timeout(
            self.config.connect_timeout,
            TcpStream::connect(&addr),
        )
        .await
        {
            Ok(r) => r.map_err(io_err("connect to", &addr))?,
            Err(_) => {
                return Err(RpcError::Io {
                    op: "connect to",
                    addr,
                    source: std::io::ErrorKind::TimedOut.into(),
                });
            }
        };
        let _ = stream.set_nodelay(true);
        let server = handshake::exchange(
            &mut stream,
            self.identity,
            self.config.handshake_timeout,
            &addr,
        )
        .await?;
        tracing::debug!(%addr, %server, "connected");
        let (read_half, mut write_half) = stream.into_split();
        let (tx, rx) = mpsc::channel::<Vec<u8>>(1024);
        let pending: Pending = Arc::default();
        let max = self.config.max_frame_size;
        let writer_addr = addr.clone();
        let writer = tokio::spawn(async move {
            if let Err(e) = write_frames(&mut write_half, rx, &writer_addr).await {
                tracing::debug!(addr = %writer_addr, error = %e, "client writer stopped");
            }
        });
        let reader = tokio::spawn(read_responses(
            BufReader::new(read_half),
            pending.clone(),
            max,
            addr,
        ));
        Ok(Connection {
            tx,
            pending,
            reader,
            writer,
        })
    }
}

/// Route each response to its waiting call; on any error fail them all.
async fn read_responses(
    mut reader: BufReader<OwnedReadHalf>,
    pending: Pending,
    max: u32,
    addr: String,
) {
    let outcome: Result<()> = async {
        while let Some(body) = wire::read_frame(&mut reader, max, &addr).await? {
            let frame = wire::decode_frame(&body)?;
            let id = match &frame {
                Frame::Response { id, .. } | Frame::StatusResponse { id, .. } => *id,
                other => {
                    return Err(RpcError::Protocol(format!(
                        "server sent a {} frame",
                        other.kind()
                    )));
                }
            };
            let waiter = pending.lock().ok().and_then(|mut w| w.calls.remove(&id));
            match waiter {
                Some(w) => {
                    let _ = w.send(frame);
                }
                None => tracing::debug!(%addr, id, "response for a call that already gave up"),
            }
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) | Err(RpcError::Io { .. }) => tracing::debug!(%addr, "connection closed"),
        Err(e) => tracing::warn!(%addr, error = %e, "closing connection"),
    }
    // Dropping the senders wakes every waiting call with ConnectionClosed.
    if let Ok(mut waiters) = pending.lock() {
        waiters.closed = true;
        waiters.calls.clear();
    }
}
