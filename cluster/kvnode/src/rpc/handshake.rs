//! The connection handshake: both sides send, then check, 14 fixed bytes:
//! `b"FLRP"`, a protocol version byte, an identity kind byte (0 peer, 1
//! client) and a u64 big-endian id. It is raw bytes rather than a frame so a
//! version change of the frame codec is still reported clearly.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::error::{Result, RpcError, io_err};
use faultline_raft::NodeId;

/// Identifies the protocol.
pub const MAGIC: [u8; 4] = *b"FLRP";
/// Bumped on any incompatible change of the frame format.
pub const PROTOCOL_VERSION: u8 = 1;
/// Length of a handshake on the wire.
pub const HANDSHAKE_LEN: usize = 14;

/// Who is on the other end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Identity {
    /// A Raft node (server side of a node, or a node sending Raft batches).
    Peer(NodeId),
    /// A client (workload process, harness, status poller).
    Client(u64),
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Peer(id) => write!(f, "peer {id}"),
            Identity::Client(id) => write!(f, "client {id}"),
        }
    }
}

/// The bytes of a handshake announcing `who` at `version`.
pub fn encode(who: Identity, version: u8) -> [u8; HANDSHAKE_LEN] {
    let (kind, id) = match who {
        Identity::Peer(id) => (0u8, id),
        Identity::Client(id) => (1u8, id),
    };
    let mut out = [0u8; HANDSHAKE_LEN];
    out[0..4].copy_from_slice(&MAGIC);
    out[4] = version;
    out[5] = kind;
    out[6..14].copy_from_slice(&id.to_be_bytes());
    out
}

/// Check a received handshake.
pub fn decode(bytes: &[u8; HANDSHAKE_LEN]) -> Result<Identity> {
    if bytes[0..4] != MAGIC {
        return Err(RpcError::Handshake(format!(
            "bad magic {:02x?}: not a faultline node or client",
            &bytes[0..4]
        )));
    }
    if bytes[4] != PROTOCOL_VERSION {
        return Err(RpcError::Handshake(format!(
            "protocol version {} but this side speaks version {PROTOCOL_VERSION}; run the same faultline build on both sides",
            bytes[4]
        )));
    }
    let id = u64::from_be_bytes(bytes[6..14].try_into().expect("8 bytes"));
    match bytes[5] {
        0 => Ok(Identity::Peer(id)),
        1 => Ok(Identity::Client(id)),
        k => Err(RpcError::Handshake(format!("unknown identity kind {k}"))),
    }
}

/// Send our handshake and read theirs (within `timeout`).
pub async fn exchange(
    stream: &mut TcpStream,
    ours: Identity,
    timeout: std::time::Duration,
    peer: &str,
) -> Result<Identity> {
    stream
        .write_all(&encode(ours, PROTOCOL_VERSION))
        .await
        .map_err(io_err("send handshake to", peer))?;
    let mut theirs = [0u8; HANDSHAKE_LEN];
    match tokio::time::timeout(timeout, stream.read_exact(&mut theirs)).await {
        Err(_) => Err(RpcError::Handshake(format!(
            "no handshake from {peer} within {timeout:?}"
        ))),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(RpcError::Handshake(
            format!("{peer} closed the connection during the handshake"),
        )),
        Ok(Err(e)) => Err(io_err("read handshake from", peer)(e)),
        Ok(Ok(_)) => decode(&theirs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_mismatches() {
        for who in [Identity::Peer(3), Identity::Client(u64::MAX)] {
            assert_eq!(decode(&encode(who, PROTOCOL_VERSION)).unwrap(), who);
        }
        let err = decode(&encode(Identity::Peer(1), PROTOCOL_VERSION + 1)).unwrap_err();
        assert!(err.to_string().contains("protocol version"), "{err}");
        let mut bad = encode(Identity::Peer(1), PROTOCOL_VERSION);
        bad[0] = b'X';
        assert!(decode(&bad).unwrap_err().to_string().contains("magic"));
        bad = encode(Identity::Peer(1), PROTOCOL_VERSION);
        bad[5] = 9;
        assert!(
            decode(&bad)
                .unwrap_err()
                .to_string()
                .contains("identity kind")
        );
    }
}
