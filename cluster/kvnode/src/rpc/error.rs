//! Typed errors of the RPC layer.

use std::io;

/// What went wrong on a connection or a call.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("{op} {addr}: {source}")]
    Io {
        op: &'static str,
        addr: String,
        #[source]
        source: io::Error,
    },
    /// A frame announced (or would need) more than the configured maximum.
    #[error("frame of {len} bytes exceeds the maximum frame size of {max} bytes")]
    FrameTooLarge { len: u64, max: u64 },
    /// The frame's bytes are not a valid encoding.
    #[error("malformed frame: {0}")]
    Codec(String),
    /// The other side is not a faultline node of the same protocol version.
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// A frame the protocol does not allow in this direction.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// The call did not complete in time; it may or may not have been executed.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The connection closed before the response arrived; the request may or
    /// may not have been executed.
    #[error("connection to {0} closed")]
    ConnectionClosed(String),
}

/// Shorthand used throughout the RPC layer.
pub type Result<T, E = RpcError> = std::result::Result<T, E>;

pub(crate) fn io_err(op: &'static str, addr: impl ToString) -> impl FnOnce(io::Error) -> RpcError {
    let addr = addr.to_string();
    move |source| RpcError::Io { op, addr, source }
}
