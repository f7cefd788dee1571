//! `KvClient`: sends each operation to the cached leader, follows hints,
//! retries on other nodes until the deadline, and classifies the result.
//!
//! Certainty rule: a write is reported `Fail` only when no attempt could have
//! reached a leader's log (every attempt failed to connect, or was refused by
//! a node before proposing). Once an attempt timed out, lost its connection
//! after sending, or was proposed and then lost its leader, the write is
//! `Indeterminate` unless a later attempt gets its reply. Reads take no
//! effect, so an unanswered read is a `Fail`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use faultline_raft::NodeId;

use super::attempt::Attempt;
use super::options::ClientOptions;
use super::outcome::Outcome;
use crate::kv::Op;
use crate::node::status::wall_clock_ms;
use crate::node::{ClientRequest, ClientResponse, NodeStatus};
use crate::rpc::{self, Identity, RpcConfig, RpcError};

/// A client id unlikely to collide with any other (time, process, counter).
pub fn fresh_client_id() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = (wall_clock_ms() << 20) ^ (u64::from(std::process::id()) << 40) ^ n;
    mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1
}

/// One logical client of a KV group.
pub struct KvClient {
    client_id: u64,
    seq: u64,
    nodes: BTreeMap<NodeId, rpc::Client>,
    leader: Option<NodeId>,
    opts: ClientOptions,
}

impl KvClient {
    /// A client of the group whose members listen at `nodes`.
    pub fn new(client_id: u64, nodes: &BTreeMap<NodeId, String>, opts: ClientOptions) -> KvClient {
        let rpc_cfg = RpcConfig {
            connect_timeout: opts.attempt_timeout,
            ..RpcConfig::default()
        };
        KvClient {
            client_id,
            seq: 0,
            nodes: nodes
                .iter()
                .map(|(&id, addr)| {
                    (
                        id,
                        rpc::Client::new(
                            addr.clone(),
                            Identity::Client(client_id),
                            rpc_cfg.clone(),
                        ),
                    )
                })
                .collect(),
            leader: None,
            opts,
        }
    }

    /// Also send operations to node `id` at `addr` from now on (a member
    /// added to the group); a node already known keeps its connection.
    pub fn add_node(&mut self, id: NodeId, addr: &str) {
        if self.nodes.contains_key(&id) {
            return;
        }
        let rpc_cfg = RpcConfig {
            connect_timeout: self.opts.attempt_timeout,
            ..RpcConfig::default()
        };
        self.nodes.insert(
            id,
            rpc::Client::new(addr.to_string(), Identity::Client(self.client_id), rpc_cfg),
        );
    }

    pub fn client_id(&self) -> u64 {
        self.client_id
    }

    /// The node this client believes leads.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// Run one operation to a definite or indeterminate end.
    pub async fn execute(&mut self, op: Op) -> Outcome {
        if self.nodes.is_empty() {
            return Outcome::Fail("no nodes configured".into());
        }
        self.seq += 1;
        let is_write = op.is_write();
        let deadline = Instant::now() + self.opts.op_deadline;
        let mut maybe_proposed = false;
        let mut target = self
            .leader
            .unwrap_or_else(|| *self.nodes.keys().next().unwrap_or(&1));
        let mut tried_without_leader = 0usize;
        let mut last_error = String::from("no attempt made");
        let mut first = true;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Outcome::deadline_passed(
                    self.opts.op_deadline,
                    &last_error,
                    is_write && maybe_proposed,
                );
            }
            if !first && self.opts.retry_new_seq {
                self.seq += 1;
            }
            first = false;
            let request = ClientRequest {
                client_id: self.client_id,
                seq: self.seq,
                op: op.clone(),
            };
            let timeout = remaining.min(self.opts.attempt_timeout);
            match self.attempt(target, &request, timeout).await {
                Attempt::Done(outcome) => {
                    if matches!(outcome, Outcome::Ok { .. }) {
                        self.leader = Some(target);
                    }
                    return match outcome {
                        Outcome::Fail(why) if is_write && maybe_proposed => {
                            Outcome::Indeterminate(why)
                        }
                        other => other,
                    };
                }
                Attempt::Retry {
                    hint,
                    maybe_proposed: m,
                    why,
                } => {
                    maybe_proposed |= m;
                    last_error = format!("node {target}: {why}");
                    match hint.filter(|h| self.nodes.contains_key(h) && *h != target) {
                        Some(h) => {
                            self.leader = Some(h);
                            target = h;
                        }
                        None => {
                            self.leader = None;
                            target = self.next_node(target);
                            tried_without_leader += 1;
                            if tried_without_leader.is_multiple_of(self.nodes.len()) {
                                let pause = self
                                    .opts
                                    .retry_pause
                                    .min(deadline.saturating_duration_since(Instant::now()));
                                tokio::time::sleep(pause).await;
                            }
                        }
                    }
                }
            }
        }
    }

    fn next_node(&self, after: NodeId) -> NodeId {
        self.nodes
            .range(after + 1..)
            .next()
            .or_else(|| self.nodes.iter().next())
            .map_or(after, |(&id, _)| id)
    }

    async fn attempt(&self, node: NodeId, request: &ClientRequest, timeout: Duration) -> Attempt {
        let Some(conn) = self.nodes.get(&node) else {
            return Attempt::Retry {
                hint: None,
                maybe_proposed: false,
                why: "unknown node".into(),
            };
        };
        let answer = conn.call_typed::<_, ClientResponse>(request, timeout).await;
        Attempt::classify(conn, node, request, answer).await
    }

    /// Ask one node for its status.
    pub async fn status(&self, node: NodeId, timeout: Duration) -> Result<NodeStatus, RpcError> {
        let conn = self
            .nodes
            .get(&node)
            .ok_or_else(|| RpcError::Protocol(format!("unknown node {node}")))?;
        let json = conn.status(timeout).await?;
        serde_json::from_str(&json).map_err(|e| RpcError::Codec(format!("status JSON: {e}")))
    }
}
