//! The client protocol (Jepsen's Client): a client belongs to one process
//! and invokes one operation at a time. A [`ClientFactory`] opens a client
//! for a process number (a process that saw an unknown outcome gets a new
//! number, and a new client).

use std::future::Future;

use crate::op::{Op, Outcome};

/// Invokes operations against the system under test. Implementations turn
/// transport errors into outcomes: `fail` only when the operation certainly
/// did not take effect, `info` otherwise. Each call must end within its own
/// deadline.
pub trait Client: Send + 'static {
    fn invoke(&mut self, op: &Op) -> impl Future<Output = Outcome> + Send;
}

/// Opens clients, one per process.
pub trait ClientFactory: Send + Sync + 'static {
    type Client: Client;
    fn open(&self, process: u64) -> Self::Client;
}
