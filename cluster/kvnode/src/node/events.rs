//! What reaches the Ready loop from other threads: Raft batches from peers,
//! client and admin requests with the channel to answer on, and the stop
//! signal.

use faultline_raft::{Message, NodeId};
use tokio::sync::oneshot;

use super::admin::{AdminRequest, AdminResponse};
use super::protocol::{ClientRequest, ClientResponse};

/// Where the answer to one client request goes.
pub type Responder = oneshot::Sender<ClientResponse>;
/// Where the answer to one admin request goes.
pub type AdminResponder = oneshot::Sender<AdminResponse>;

/// One input of the Ready loop.
#[derive(Debug)]
pub enum Event {
    Raft {
        from: NodeId,
        messages: Vec<Message>,
    },
    Client {
        request: ClientRequest,
        respond: Responder,
    },
    Admin {
        request: AdminRequest,
        respond: AdminResponder,
    },
    /// Stop the loop (SIGTERM).
    Shutdown,
    /// Look at the clock (lease mode's waker thread; see `tick_clock`).
    Wake,
}
