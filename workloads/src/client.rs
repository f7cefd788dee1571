//! The client protocol (Jepsen's Client): a client belongs to one process
//! and invokes one operation at a time. A [`ClientFactory`] opens a client
//! for a process number (a process that saw an unknown outcome gets a new
//! number, and a new client). Both are object-safe, so the runner drives any
//! system through `Arc<dyn ClientFactory>` and `Box<dyn Client>`.

use async_trait::async_trait;

use crate::op::{Op, Outcome};

/// Invokes operations against the system under test. Implementations turn
/// transport errors into outcomes: `fail` only when the operation certainly
/// did not take effect, `info` otherwise. Each call must end within its own
/// deadline.
#[async_trait]
pub trait Client: Send {
    async fn invoke(&mut self, op: &Op) -> Outcome;
}

/// Opens clients, one per process.
pub trait ClientFactory: Send + Sync {
    fn open(&self, process: u64) -> Box<dyn Client>;
}
