//! Tunables of the RPC layer.

use std::time::Duration;

/// Default maximum frame size: 16 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16 * 1024 * 1024;

/// Options shared by servers, clients and peer senders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcConfig {
    /// Largest frame accepted or sent; a larger announced length is refused
    /// before any buffer is allocated, and that connection is closed.
    pub max_frame_size: u32,
    /// How long the other side has to send its handshake.
    pub handshake_timeout: Duration,
    /// How long a TCP connect may take.
    pub connect_timeout: Duration,
    /// First delay before a peer sender reconnects; doubled after each failure.
    pub backoff_initial: Duration,
    /// Upper bound of the reconnect delay.
    pub backoff_max: Duration,
    /// Batches a peer sender queues before it drops new ones.
    pub peer_queue: usize,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            handshake_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            backoff_initial: Duration::from_millis(20),
            backoff_max: Duration::from_secs(1),
            peer_queue: 1024,
        }
    }
}
