//! The server: an accept loop that runs each connection in its own task and
//! dispatches its frames to a [`Handler`]. A connection that sends a bad
//! handshake, an oversized or undecodable frame, or a frame not allowed in its
//! direction is closed with a `warn!`; the server keeps serving the others.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use faultline_raft::{Message, NodeId};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::config::RpcConfig;
use super::error::{Result, RpcError, io_err};
use super::frame::Frame;
use super::handshake::{self, Identity};
use super::wire;

/// Requests of one connection handled at once before the server stops
/// reading from it.
const MAX_REQUESTS_IN_FLIGHT: usize = 4096;

/// What a node does with what arrives. Implemented by kvnode.
pub trait Handler: Send + Sync + 'static {
    /// One batch of Raft messages from peer `from`. Called on the connection's
    /// task: hand the batch over (e.g. to a channel) without blocking.
    fn raft(&self, from: NodeId, messages: Vec<Message>);

    /// A client request; its answer is sent back under the same request id.
    /// Requests of one connection run concurrently.
    fn request(&self, from: Identity, payload: Vec<u8>) -> impl Future<Output = Vec<u8>> + Send;

    /// The node status as JSON.
    fn status(&self) -> String;

    /// An admin request (membership changes); its answer is sent back
    /// under the same request id. By default: an empty answer (the server
    /// takes no admin requests; the caller's decoding says so).
    fn admin(&self, from: Identity, payload: Vec<u8>) -> impl Future<Output = Vec<u8>> + Send {
        let _ = (from, payload);
        async { Vec::new() }
    }
}

/// A running server. Dropping it (or [`Server::shutdown`]) stops accepting and
/// closes every connection.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Bind `addr` and start serving as `identity` (sent in the handshake).
    pub async fn bind<H: Handler>(
        addr: impl ToSocketAddrs + std::fmt::Display,
        identity: Identity,
        config: RpcConfig,
        handler: Arc<H>,
    ) -> Result<Server> {
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(io_err("bind", &addr))?;
        Ok(Server::serve(listener, identity, config, handler))
    }

    /// Serve on an already bound listener.
    pub fn serve<H: Handler>(
        listener: TcpListener,
        identity: Identity,
        config: RpcConfig,
        handler: Arc<H>,
    ) -> Server {
        let local_addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, identity, config, handler, stopped));
        Server {
            local_addr,
            stop: Some(stop),
            task,
        }
    }

    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stop accepting, close every connection and wait until that is done.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop<H: Handler>(
    listener: TcpListener,
    identity: Identity,
    config: RpcConfig,
    handler: Arc<H>,
    mut stopped: oneshot::Receiver<()>,
) {
    let config = Arc::new(config);
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, addr)) => {
                    let (config, handler) = (config.clone(), handler.clone());
                    connections.spawn(async move {
                        let peer = addr.to_string();
                        match serve_connection(stream, &peer, identity, &config, handler).await {
                            Ok(()) => tracing::debug!(%peer, "connection closed"),
                            Err(e @ RpcError::Io { .. }) => tracing::debug!(%peer, error = %e, "connection ended"),
                            Err(e) => tracing::warn!(%peer, error = %e, "closing connection"),
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    connections.shutdown().await;
}

async fn serve_connection<H: Handler>(
    mut stream: TcpStream,
    peer: &str,
    identity: Identity,
    config: &RpcConfig,
    handler: Arc<H>,
) -> Result<()> {
    let _ = stream.set_nodelay(true);
    let from = handshake::exchange(&mut stream, identity, config.handshake_timeout, peer).await?;
    tracing::debug!(%peer, %from, "connection established");
    let (read_half, mut write_half) = stream.into_split();
    let mut reader = BufReader::new(read_half);
    let (tx, rx) = mpsc::channel::<Vec<u8>>(1024);
    let max = config.max_frame_size;
    let writer_peer = peer.to_string();
    let mut tasks = JoinSet::new();
    // The writer is aborted with `tasks` when the reader stops.
    tasks.spawn(async move {
        if let Err(e) = write_frames(&mut write_half, rx, &writer_peer).await {
            tracing::debug!(peer = %writer_peer, error = %e, "writer stopped");
        }
        let _ = write_half.shutdown().await;
    });
    loop {
        let Some(body) = wire::read_frame(&mut reader, max, peer).await? else {
            return Ok(());
        };
        while tasks.try_join_next().is_some() {}
        // Backpressure: a client that floods requests waits for some to finish.
        while tasks.len() > MAX_REQUESTS_IN_FLIGHT {
            tasks.join_next().await;
        }
        match wire::decode_frame(&body)? {
            Frame::Raft(messages) => match from {
                Identity::Peer(id) => handler.raft(id, messages),
                Identity::Client(_) => {
                    return Err(RpcError::Protocol(format!("{from} sent Raft messages")));
                }
            },
            Frame::Request { id, payload } => {
                let (handler, tx, peer) = (handler.clone(), tx.clone(), peer.to_string());
                tasks.spawn(async move {
                    let payload = handler.request(from, payload).await;
                    send_frame(&tx, &Frame::Response { id, payload }, max, &peer).await;
                });
            }
            Frame::AdminRequest { id, payload } => {
                let (handler, tx, peer) = (handler.clone(), tx.clone(), peer.to_string());
                tasks.spawn(async move {
                    let payload = handler.admin(from, payload).await;
                    send_frame(&tx, &Frame::Response { id, payload }, max, &peer).await;
                });
            }
            Frame::StatusRequest { id } => {
                let json = handler.status();
                send_frame(&tx, &Frame::StatusResponse { id, json }, max, peer).await;
            }
            other @ (Frame::Response { .. } | Frame::StatusResponse { .. }) => {
                return Err(RpcError::Protocol(format!(
                    "{from} sent a {} frame to a server",
                    other.kind()
                )));
            }
        }
    }
}

/// Encode a response and queue it for the writer; a response too large to
/// send is dropped with a warning (the caller's timeout reports it).
async fn send_frame(tx: &mpsc::Sender<Vec<u8>>, frame: &Frame, max: u32, peer: &str) {
    let mut bytes = Vec::new();
    match wire::encode_frame(frame, max, &mut bytes) {
        Ok(()) => {
            let _ = tx.send(bytes).await;
        }
        Err(e) => {
            tracing::warn!(%peer, kind = frame.kind(), error = %e, "dropping a response that cannot be sent")
        }
    }
}

/// Drain encoded frames from `rx` onto the socket, coalescing whatever is
/// queued into one write.
pub(crate) async fn write_frames<W: tokio::io::AsyncWrite + Unpin>(
    writer: &mut W,
    mut rx: mpsc::Receiver<Vec<u8>>,
    peer: &str,
) -> Result<()> {
    let mut buf = Vec::new();
    while let Some(first) = rx.recv().await {
        buf.clear();
        buf.extend_from_slice(&first);
        while buf.len() < 1 << 20 {
            match rx.try_recv() {
                Ok(more) => buf.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        wire::write_all(writer, &buf, peer).await?;
    }
    Ok(())
}
