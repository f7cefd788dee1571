//! `ShardClient`: a client of the sharded store. It routes each operation
//! to the group owning its key's shard in its cached configuration, finds
//! that group's leader, and on `ErrWrongGroup` (or when no group member
//! answers) refreshes the configuration from the controller and retries with
//! the same (client id, seq): session tables move with shards, so a retried
//! write applies once even across a migration.
//!
//! Certainty follows `KvClient`: a write is `Fail` only when no attempt can
//! have reached a log (refused before proposing, could not connect, or
//! answered `ErrWrongGroup`, which a group says only for an entry it did not
//! apply); otherwise `Indeterminate` unless a later attempt got its reply.

use std::collections::BTreeMap;
use std::time::Instant;

use faultline_raft::NodeId;

use super::config::{Config, Gid};
use super::ctrler_client::CtrlerClient;
use super::group_protocol::WRONG_GROUP;
use super::hash::key_to_shard;
use crate::client::{Attempt, ClientOptions, Outcome};
use crate::kv::Op;
use crate::node::{ClientRequest, ClientResponse};
use crate::rpc::{self, Identity, RpcConfig};

/// One logical client of the sharded store.
pub struct ShardClient {
    client_id: u64,
    seq: u64,
    ctrler: CtrlerClient,
    config: Config,
    /// Index into the group's server list of its last known leader.
    leaders: BTreeMap<Gid, usize>,
    conns: BTreeMap<String, rpc::Client>,
    opts: ClientOptions,
}

/// What one attempt on one group member said: the group does not serve
/// the shard, or what any node's answer says.
enum GroupAttempt {
    WrongGroup,
    Answered(Attempt),
}

impl ShardClient {
    /// A client that finds the configuration through the controller members
    /// at `ctrlers`.
    pub fn new(
        client_id: u64,
        ctrlers: &BTreeMap<NodeId, String>,
        opts: ClientOptions,
    ) -> ShardClient {
        ShardClient {
            client_id,
            seq: 0,
            ctrler: CtrlerClient::new(ctrlers, opts.clone()),
            config: Config::initial(1),
            leaders: BTreeMap::new(),
            conns: BTreeMap::new(),
            opts,
        }
    }

    pub fn client_id(&self) -> u64 {
        self.client_id
    }

    /// The configuration this client routes by.
    pub fn config(&self) -> &Config {
        &self.config
    }

    async fn refresh(&mut self) {
        if let Ok(c) = self.ctrler.query(-1).await {
            self.config = c;
        }
    }

    /// Run one operation to a definite or indeterminate end. `node` of an
    /// `Ok` outcome is the group id times 100 plus the 1-based position of
    /// the server in the group's list.
    pub async fn execute(&mut self, op: Op) -> Outcome {
        self.seq += 1;
        let is_write = op.is_write();
        let deadline = Instant::now() + self.opts.op_deadline;
        let mut maybe_proposed = false;
        let mut last_error = String::from("no attempt made");
        let request = ClientRequest {
            client_id: self.client_id,
            seq: self.seq,
            op,
        };
        loop {
            if Instant::now() >= deadline {
                return Outcome::deadline_passed(
                    self.opts.op_deadline,
                    &last_error,
                    is_write && maybe_proposed,
                );
            }
            let shard = key_to_shard(request.op.key(), self.config.nshards());
            let gid = self.config.owner(shard);
            let servers = self.config.servers(gid).to_vec();
            if self.config.num == 0 || servers.is_empty() {
                last_error = format!(
                    "no group serves shard {shard} in config {}",
                    self.config.num
                );
                tokio::time::sleep(self.opts.retry_pause).await;
                self.refresh().await;
                continue;
            }
            let start = self.leaders.get(&gid).copied().unwrap_or(0);
            let mut wrong_group = false;
            for i in 0..servers.len() {
                let at = (start + i) % servers.len();
                let remaining = deadline.saturating_duration_since(Instant::now());
                let timeout = remaining.min(self.opts.attempt_timeout);
                match self.attempt(&servers[at], &request, timeout).await {
                    GroupAttempt::Answered(Attempt::Done(outcome)) => {
                        self.leaders.insert(gid, at);
                        return match outcome {
                            Outcome::Ok { reply, .. } => Outcome::Ok {
                                reply,
                                node: gid * 100 + at as u64 + 1,
                            },
                            other => other,
                        };
                    }
                    GroupAttempt::WrongGroup => {
                        last_error = format!("group {gid}: {WRONG_GROUP} for shard {shard}");
                        wrong_group = true;
                        break;
                    }
                    GroupAttempt::Answered(Attempt::Retry {
                        maybe_proposed: m,
                        why,
                        ..
                    }) => {
                        maybe_proposed |= m;
                        last_error = format!("{}: {why}", servers[at]);
                    }
                }
            }
            if !wrong_group {
                let pause = self
                    .opts
                    .retry_pause
                    .min(deadline.saturating_duration_since(Instant::now()));
                tokio::time::sleep(pause).await;
            }
            self.refresh().await;
        }
    }

    async fn attempt(
        &mut self,
        addr: &str,
        request: &ClientRequest,
        timeout: std::time::Duration,
    ) -> GroupAttempt {
        let client_id = self.client_id;
        let connect_timeout = self.opts.attempt_timeout;
        let conn = self.conns.entry(addr.to_string()).or_insert_with(|| {
            let cfg = RpcConfig {
                connect_timeout,
                ..RpcConfig::default()
            };
            rpc::Client::new(addr.to_string(), Identity::Client(client_id), cfg)
        });
        let answer = conn.call_typed::<_, ClientResponse>(request, timeout).await;
        if let Ok(ClientResponse::Unavailable(why)) = &answer
            && why.starts_with(WRONG_GROUP)
        {
            return GroupAttempt::WrongGroup;
        }
        // The node is reported by `execute`, which knows its place in the group.
        GroupAttempt::Answered(Attempt::classify(conn, 0, request, answer).await)
    }
}
