//! The frame envelope: everything that travels on a connection after the
//! handshake. Payloads of client requests are opaque bytes here; the KV layer
//! defines them and encodes them with [`encode_payload`](super::encode_payload).

use faultline_raft::Message;
use serde::{Deserialize, Serialize};

/// Identifies a request on one connection; the response carries the same id.
pub type RequestId = u64;

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// All messages for one peer from one Ready (peer connections only).
    Raft(Vec<Message>),
    /// A client request.
    Request { id: RequestId, payload: Vec<u8> },
    /// The answer to `Request { id }`.
    Response { id: RequestId, payload: Vec<u8> },
    /// Ask for the node status.
    StatusRequest { id: RequestId },
    /// The node status as JSON (DESIGN.md, "Node status").
    StatusResponse { id: RequestId, json: String },
    /// An admin request (membership changes); answered by `Response`.
    AdminRequest { id: RequestId, payload: Vec<u8> },
}

impl Frame {
    /// A short name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Frame::Raft(_) => "raft",
            Frame::Request { .. } => "request",
            Frame::Response { .. } => "response",
            Frame::StatusRequest { .. } => "status-request",
            Frame::StatusResponse { .. } => "status-response",
            Frame::AdminRequest { .. } => "admin-request",
        }
    }
}
