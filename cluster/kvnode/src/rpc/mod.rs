//! RPC between nodes and from clients: tokio TCP with a fixed handshake
//! (magic, protocol version, sender identity), then length-delimited frames
//! (`[u32 big-endian length][bincode Frame]`, at most `max_frame_size`).
//!
//! - [`Server`] accepts connections and dispatches frames to a [`Handler`]:
//!   Raft batches from peers, client requests (answered under their id),
//!   status queries. A malformed connection is closed; the server goes on.
//! - [`PeerSender`] carries one Ready's messages per frame to one peer, with
//!   reconnect and exponential backoff and a bounded queue that drops.
//! - [`Client`] makes requests with per-call timeouts, matching responses by
//!   id, pipelining over one connection and reconnecting on the next call.

mod client;
mod codec;
mod config;
pub mod error;
mod frame;
mod handshake;
mod peer;
mod server;
mod wire;

pub use client::Client;
pub use codec::{decode_payload, encode_payload};
pub use config::{DEFAULT_MAX_FRAME_SIZE, RpcConfig};
pub use error::RpcError;
pub use frame::{Frame, RequestId};
pub use handshake::{
    HANDSHAKE_LEN, Identity, MAGIC, PROTOCOL_VERSION, decode as decode_handshake,
    encode as encode_handshake,
};
pub use peer::{PeerCounters, PeerSender};
pub use server::{Handler, Server};
pub use wire::{LEN_PREFIX, decode_frame, encode_frame, read_frame};
