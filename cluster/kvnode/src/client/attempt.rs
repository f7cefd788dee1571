//! One request to one node, classified for the retry loops of
//! [`KvClient`](super::KvClient) and `ShardClient`: a final outcome, or a
//! reason to try again elsewhere together with whether the write may have
//! entered a log (the certainty rule of [`super::kv_client`]).

use faultline_raft::NodeId;

use super::outcome::Outcome;
use crate::node::{ClientRequest, ClientResponse};
use crate::rpc::{self, RpcError};

/// What one attempt on one node said.
pub(crate) enum Attempt {
    Done(Outcome),
    /// Not served here; try `hint` (the leader the node named) or the next
    /// node. `maybe_proposed`: the write may have entered a log.
    Retry {
        hint: Option<NodeId>,
        maybe_proposed: bool,
        why: String,
    },
}

impl Attempt {
    /// Classifies `answer`, the reply of `node` (reported in an `Ok`
    /// outcome) to `request` over `conn`. A connection whose state is
    /// unknown after a failed call is dropped, so the next call reconnects.
    pub(crate) async fn classify(
        conn: &rpc::Client,
        node: NodeId,
        request: &ClientRequest,
        answer: Result<ClientResponse, RpcError>,
    ) -> Attempt {
        match answer {
            Ok(ClientResponse::Ok(reply)) => Attempt::Done(Outcome::Ok { reply, node }),
            Ok(ClientResponse::NotLeader { leader }) => Attempt::Retry {
                hint: leader,
                maybe_proposed: false,
                why: "not the leader".into(),
            },
            Ok(ClientResponse::NotMember { leader }) => Attempt::Retry {
                hint: leader,
                maybe_proposed: false,
                why: "not a member of the group".into(),
            },
            Ok(ClientResponse::LostLeadership { leader }) => Attempt::Retry {
                hint: leader,
                maybe_proposed: true,
                why: "lost leadership before the write was decided".into(),
            },
            Ok(ClientResponse::StaleSequence { last_seq }) => {
                Attempt::Done(Outcome::Indeterminate(format!(
                    "node says sequence {} is older than the last applied {last_seq}",
                    request.seq
                )))
            }
            Ok(ClientResponse::Unavailable(why)) => Attempt::Retry {
                hint: None,
                maybe_proposed: false,
                why,
            },
            // Encoding failed or the frame is too large: nothing was sent.
            Err(e @ RpcError::FrameTooLarge { .. }) => Attempt::Done(Outcome::Fail(e.to_string())),
            // Connecting or the handshake failed: nothing was sent.
            Err(e @ (RpcError::Io { .. } | RpcError::Handshake(_))) => Attempt::Retry {
                hint: None,
                maybe_proposed: false,
                why: e.to_string(),
            },
            Err(e) => {
                conn.disconnect().await;
                Attempt::Retry {
                    hint: None,
                    maybe_proposed: true,
                    why: e.to_string(),
                }
            }
        }
    }
}
