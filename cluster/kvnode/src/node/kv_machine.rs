//! The KV store behind the [`Machine`] seam: Gets go through ReadIndex,
//! writes are answered from the session table when they already applied,
//! and the planted bugs `stale-read` and `ack-before-commit` live here.

use faultline_raft::Index;

use super::error::NodeError;
use super::machine::{Admission, Machine};
use super::protocol::{ClientRequest, ClientResponse};
use crate::kv::{ApplyOutcome, Command, KvStore, Op, Reply, SessionLookup, encode_command};

/// The KV role's state machine.
pub struct KvMachine {
    pub store: KvStore,
    /// Planted bug `stale-read`: answer Gets from local state.
    pub stale_read: bool,
    /// Planted bug `ack-before-commit`: acknowledge a Put when proposed.
    pub ack_before_commit: bool,
}

impl Machine for KvMachine {
    fn applied(&self) -> Index {
        self.store.applied()
    }

    fn apply_noop(&mut self, index: Index) {
        self.store.apply_noop(index);
    }

    fn apply(&mut self, index: Index, data: &[u8]) -> ClientResponse {
        match self.store.apply(index, data) {
            ApplyOutcome::Applied { reply, .. } | ApplyOutcome::Duplicate { reply, .. } => {
                ClientResponse::Ok(reply)
            }
            ApplyOutcome::Stale { client_id, .. } => {
                let last_seq = self.store.sessions().get(client_id).map_or(0, |s| s.seq);
                ClientResponse::StaleSequence { last_seq }
            }
            ApplyOutcome::Undecodable(e) => {
                tracing::warn!(index, error = %e, "skipped an entry that is not a command");
                ClientResponse::Unavailable(e)
            }
        }
    }

    fn admit(&self, request: ClientRequest) -> Admission {
        let ClientRequest { client_id, seq, op } = request;
        if let Op::Get { key } = op {
            if self.stale_read {
                return Admission::Respond(self.read(&key));
            }
            return Admission::Read { key };
        }
        // A retry of a write that already applied: answer from the session.
        match self.store.lookup(client_id, seq) {
            SessionLookup::Duplicate(reply) => {
                return Admission::Respond(ClientResponse::Ok(reply));
            }
            SessionLookup::Stale { last_seq } => {
                return Admission::Respond(ClientResponse::StaleSequence { last_seq });
            }
            SessionLookup::New => {}
        }
        let is_put = matches!(op, Op::Put { .. });
        match encode_command(&Command { client_id, seq, op }) {
            Ok(data) => Admission::Propose {
                data,
                ack_now: (is_put && self.ack_before_commit)
                    .then_some(ClientResponse::Ok(Reply::Done)),
            },
            Err(e) => Admission::Respond(ClientResponse::Unavailable(e.to_string())),
        }
    }

    fn read(&self, key: &str) -> ClientResponse {
        ClientResponse::Ok(Reply::Value(self.store.get(key).cloned()))
    }

    fn snapshot(&self) -> Result<Vec<u8>, NodeError> {
        Ok(self.store.snapshot()?)
    }

    fn restore(&mut self, data: &[u8]) -> Result<(), NodeError> {
        Ok(self.store.restore(data)?)
    }
}
