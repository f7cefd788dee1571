//! The state-machine seam of the Ready loop: what a replicated state
//! machine (the KV store, the shard controller, ...) must offer so one
//! Ready loop can drive any of them. The loop owns Raft, storage and
//! waiters; the machine decides how a request is admitted (answered at
//! once, read through ReadIndex, or proposed), applies committed entries
//! and snapshots itself.

use faultline_raft::Index;

use super::error::NodeError;
use super::protocol::{ClientRequest, ClientResponse};

/// How the leader handles one client request.
#[derive(Debug)]
pub enum Admission {
    /// Answer now, without the log.
    Respond(ClientResponse),
    /// A read: serve with [`Machine::read`] once a ReadIndex round applied.
    Read { key: String },
    /// Propose `data`; answer when it applies. `ack_now`: answer this at once
    /// instead (planted bug `ack-before-commit`).
    Propose {
        data: Vec<u8>,
        ack_now: Option<ClientResponse>,
    },
}

/// A replicated state machine driven by the Ready loop.
pub trait Machine: Send {
    /// The highest log index applied.
    fn applied(&self) -> Index;
    /// An entry without a command (a leader's Noop) at `index`.
    fn apply_noop(&mut self, index: Index);
    /// Apply the command entry at `index`; the answer for its waiter.
    fn apply(&mut self, index: Index, data: &[u8]) -> ClientResponse;
    /// How the leader should handle `request`.
    fn admit(&self, request: ClientRequest) -> Admission;
    /// Serve a read of `key` from the applied state.
    fn read(&self, key: &str) -> ClientResponse;
    /// Encode the whole state.
    fn snapshot(&self) -> Result<Vec<u8>, NodeError>;
    /// Replace the state with a snapshot's content.
    fn restore(&mut self, data: &[u8]) -> Result<(), NodeError>;
    /// Shard configuration number and shards served (status JSON), if the
    /// machine is sharded.
    fn shard_status(&self) -> Option<(u64, Vec<u64>)> {
        None
    }
}
