//! The shard group leader's duty task (`kvnode --role shardkv`): every
//! 50 ms, while this node leads, it asks its own node what migration work is
//! pending, then fetches the next configuration from the controller, pulls
//! shards from their previous owners and asks them to delete handed-off
//! copies, putting each result through its own group's log. It talks to its
//! own node over RPC like any client, so the Ready loop stays the only owner
//! of the state; every entry it proposes is re-validated when applied.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use faultline_raft::{NodeId, Role};

use super::protocol::{ClientRequest, ClientResponse};
use super::status::LiveStatus;
use crate::client::{ClientOptions, fresh_client_id};
use crate::rpc::{self, Identity, RpcConfig};
use crate::shard::group_protocol::{GroupReply, GroupRequest, unwrap_reply, wrap_request};
use crate::shard::{CtrlerClient, PullReply, ShardCommand};

const PERIOD: Duration = Duration::from_millis(50);
const CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// RPC to our own node and other groups' nodes, one cached connection each.
struct Caller {
    client_id: u64,
    seq: u64,
    conns: BTreeMap<String, rpc::Client>,
}

impl Caller {
    async fn call(&mut self, addr: &str, req: &GroupRequest) -> Option<GroupReply> {
        self.seq += 1;
        let request = ClientRequest {
            client_id: self.client_id,
            seq: self.seq,
            op: wrap_request(req).ok()?,
        };
        let conn = self.conns.entry(addr.to_string()).or_insert_with(|| {
            let cfg = RpcConfig {
                connect_timeout: CALL_TIMEOUT,
                ..RpcConfig::default()
            };
            rpc::Client::new(addr.to_string(), Identity::Client(self.client_id), cfg)
        });
        match conn
            .call_typed::<_, ClientResponse>(&request, CALL_TIMEOUT)
            .await
        {
            Ok(ClientResponse::Ok(reply)) => unwrap_reply(&reply).ok(),
            _ => None,
        }
    }

    /// Ask each server of a group in turn until its leader answers.
    async fn call_group(&mut self, servers: &[String], req: &GroupRequest) -> Option<GroupReply> {
        for addr in servers {
            if let Some(reply) = self.call(addr, req).await {
                return Some(reply);
            }
        }
        None
    }
}

/// Run the duty loop until the task is aborted.
pub async fn run(own: String, ctrlers: BTreeMap<NodeId, String>, live: Arc<LiveStatus>) {
    let opts = ClientOptions {
        op_deadline: Duration::from_secs(2),
        ..ClientOptions::default()
    };
    let mut ctrler = CtrlerClient::new(&ctrlers, opts);
    let mut caller = Caller {
        client_id: fresh_client_id(),
        seq: 0,
        conns: BTreeMap::new(),
    };
    loop {
        tokio::time::sleep(PERIOD).await;
        if live.role() != Role::Leader {
            continue;
        }
        let Some(GroupReply::Duties(d)) = caller.call(&own, &GroupRequest::Duties).await else {
            continue;
        };
        if let Some(next) = d.wants_config
            && let Ok(cfg) = ctrler.query(next as i64).await
            && cfg.num == next
        {
            let propose = GroupRequest::Propose(ShardCommand::Config(cfg));
            caller.call(&own, &propose).await;
            continue;
        }
        for (shard, from, servers) in d.pulls {
            let pull = GroupRequest::Pull {
                config_num: d.config_num,
                shard,
            };
            if let Some(GroupReply::Pull(PullReply::Shard(content))) =
                caller.call_group(&servers, &pull).await
            {
                tracing::info!(
                    term = live.term(),
                    shard,
                    from,
                    config = d.config_num,
                    keys = content.data.len(),
                    "pulled shard"
                );
                let install = ShardCommand::Install {
                    config_num: d.config_num,
                    shard,
                    content,
                };
                caller.call(&own, &GroupRequest::Propose(install)).await;
            }
        }
        for (shard, _from, servers) in d.gcs {
            let delete = GroupRequest::Delete {
                config_num: d.config_num,
                shard,
            };
            if let Some(GroupReply::Deleted) = caller.call_group(&servers, &delete).await {
                let confirmed = ShardCommand::Confirmed {
                    config_num: d.config_num,
                    shard,
                };
                caller.call(&own, &GroupRequest::Propose(confirmed)).await;
            }
        }
    }
}
