//! The shard controller behind the [`Machine`] seam (`kvnode --role
//! ctrler`): controller operations arrive in the envelope of
//! `shard::envelope`, go through the log (Query too, so it is linearizable)
//! and are deduplicated by the controller's session table.

use faultline_raft::Index;

use super::error::NodeError;
use super::machine::{Admission, Machine};
use super::protocol::{ClientRequest, ClientResponse};
use crate::shard::envelope::{unwrap_request, wrap_reply};
use crate::shard::{CtrlerCommand, CtrlerOutcome, CtrlerState};

/// The controller role's state machine.
pub struct CtrlerMachine {
    pub state: CtrlerState,
}

impl Machine for CtrlerMachine {
    fn applied(&self) -> Index {
        self.state.applied()
    }

    fn apply_noop(&mut self, index: Index) {
        self.state.apply_noop(index);
    }

    fn apply(&mut self, index: Index, data: &[u8]) -> ClientResponse {
        match self.state.apply(index, data) {
            CtrlerOutcome::Applied { reply, .. } | CtrlerOutcome::Duplicate { reply, .. } => {
                ClientResponse::Ok(wrap_reply(&reply))
            }
            CtrlerOutcome::Stale { client_id, .. } => ClientResponse::StaleSequence {
                last_seq: self.state.last_seq(client_id),
            },
            CtrlerOutcome::Undecodable(e) => {
                tracing::warn!(index, error = %e, "skipped an entry that is not a controller command");
                ClientResponse::Unavailable(e)
            }
        }
    }

    fn admit(&self, request: ClientRequest) -> Admission {
        let ClientRequest { client_id, seq, op } = request;
        let op = match unwrap_request(&op) {
            Some(Ok(op)) => op,
            Some(Err(e)) => return Admission::Respond(ClientResponse::Unavailable(e.to_string())),
            None => {
                return Admission::Respond(ClientResponse::Unavailable(
                    "this node is a shard controller: only controller requests".into(),
                ));
            }
        };
        match (CtrlerCommand { client_id, seq, op }).encode() {
            Ok(data) => Admission::Propose {
                data,
                ack_now: None,
            },
            Err(e) => Admission::Respond(ClientResponse::Unavailable(e.to_string())),
        }
    }

    fn read(&self, _key: &str) -> ClientResponse {
        ClientResponse::Unavailable("the shard controller serves no reads".into())
    }

    fn snapshot(&self) -> Result<Vec<u8>, NodeError> {
        Ok(self.state.snapshot()?)
    }

    fn restore(&mut self, data: &[u8]) -> Result<(), NodeError> {
        Ok(self.state.restore(data)?)
    }

    fn shard_status(&self) -> Option<(u64, Vec<u64>)> {
        Some((self.state.latest().num, Vec::new()))
    }
}
