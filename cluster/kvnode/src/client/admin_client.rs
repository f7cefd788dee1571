//! `AdminClient`: membership changes of a KV group from outside. It sends
//! an admin request to the node it believes leads, follows leader hints,
//! retries while the leader says "not now" (an earlier change is not
//! committed, or the leader has not committed its no-op yet), and returns
//! once the change is committed. Requests are idempotent: adding a voter
//! that already is one, or removing a non-member, answers `Done`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use faultline_raft::{ConfState, Index, NodeId};

use crate::node::{AdminRequest, AdminResponse};
use crate::rpc::{self, Identity, RpcConfig};

/// Why a membership change did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// The group refused it (e.g. removing its last voter); it did not
    /// happen.
    #[error("the group refused the change: {0}")]
    Refused(String),
    /// No answer saying it committed within the deadline: it may still
    /// take effect. Ask again (requests are idempotent) or look at the
    /// members' status.
    #[error(
        "the change was not confirmed within {deadline:?} (it may still take effect); last error: {last}"
    )]
    Unconfirmed { deadline: Duration, last: String },
}

/// The change committed: at log index `index`, giving configuration `conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub index: Index,
    pub conf: ConfState,
}

/// Membership changes through whichever node leads.
pub struct AdminClient {
    nodes: BTreeMap<NodeId, rpc::Client>,
    leader: Option<NodeId>,
    attempt_timeout: Duration,
}

impl AdminClient {
    /// An admin client of the group whose members listen at `nodes`.
    pub fn new(nodes: &BTreeMap<NodeId, String>, attempt_timeout: Duration) -> AdminClient {
        let cfg = RpcConfig {
            connect_timeout: attempt_timeout,
            ..RpcConfig::default()
        };
        let id = super::fresh_client_id();
        AdminClient {
            nodes: nodes
                .iter()
                .map(|(&n, a)| {
                    (
                        n,
                        rpc::Client::new(a.clone(), Identity::Client(id), cfg.clone()),
                    )
                })
                .collect(),
            leader: None,
            attempt_timeout,
        }
    }

    /// Make node `id`, listening at `addr`, a voter; returns once committed.
    pub async fn add_member(
        &mut self,
        id: NodeId,
        addr: &str,
        deadline: Duration,
    ) -> Result<Committed, AdminError> {
        let request = AdminRequest::AddMember {
            id,
            addr: addr.to_string(),
        };
        self.run(request, deadline).await
    }

    /// Remove node `id`; returns once committed.
    pub async fn remove_member(
        &mut self,
        id: NodeId,
        deadline: Duration,
    ) -> Result<Committed, AdminError> {
        self.run(AdminRequest::RemoveMember { id }, deadline).await
    }

    async fn run(
        &mut self,
        request: AdminRequest,
        deadline: Duration,
    ) -> Result<Committed, AdminError> {
        let until = Instant::now() + deadline;
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        if ids.is_empty() {
            return Err(AdminError::Refused("no nodes configured".into()));
        }
        let mut next = 0usize;
        let mut last = String::from("no attempt made");
        while Instant::now() < until {
            let target = self.leader.unwrap_or_else(|| {
                next += 1;
                ids[next % ids.len()]
            });
            let conn = &self.nodes[&target];
            let timeout = self
                .attempt_timeout
                .min(until.saturating_duration_since(Instant::now()));
            match conn
                .admin_typed::<_, AdminResponse>(&request, timeout)
                .await
            {
                Ok(AdminResponse::Done { index, conf }) => {
                    self.leader = Some(target);
                    return Ok(Committed { index, conf });
                }
                Ok(AdminResponse::Refused(why)) => return Err(AdminError::Refused(why)),
                Ok(AdminResponse::NotLeader { leader }) => {
                    last = format!("node {target}: not the leader");
                    self.leader = leader.filter(|l| self.nodes.contains_key(l) && *l != target);
                    if self.leader.is_none() {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                Ok(AdminResponse::Retry(why)) => {
                    last = format!("node {target}: {why}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    last = format!("node {target}: {e}");
                    conn.disconnect().await;
                    self.leader = None;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        Err(AdminError::Unconfirmed { deadline, last })
    }
}
