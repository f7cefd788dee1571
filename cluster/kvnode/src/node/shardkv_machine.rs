//! A shard group behind the [`Machine`] seam (`kvnode --role shardkv`):
//! client operations are checked against the shards served (else
//! `ErrWrongGroup`), reads go through ReadIndex, and the group requests of
//! `shard::group_protocol` (duties of the leader's task, pulls and deletes
//! from other groups, migration commands) are admitted here.

use faultline_raft::Index;

use super::error::NodeError;
use super::machine::{Admission, Machine};
use super::protocol::{ClientRequest, ClientResponse};
use crate::kv::{Command, Op};
use crate::shard::group_protocol::{
    Duties, GroupReply, GroupRequest, WRONG_GROUP, unwrap_request, wrap_reply,
};
use crate::shard::{DeleteAnswer, ShardApply, ShardCommand, ShardKv, WrongGroup};

/// The shard group role's state machine.
pub struct ShardKvMachine {
    pub state: ShardKv,
}

fn wrong_group(w: WrongGroup) -> ClientResponse {
    ClientResponse::Unavailable(format!(
        "{WRONG_GROUP}: shard {} not served at config {}",
        w.shard, w.config_num
    ))
}

fn group_reply(reply: GroupReply) -> ClientResponse {
    ClientResponse::Ok(wrap_reply(&reply))
}

fn propose(cmd: ShardCommand, ack_now: Option<ClientResponse>) -> Admission {
    match cmd.encode() {
        Ok(data) => Admission::Propose { data, ack_now },
        Err(e) => Admission::Respond(ClientResponse::Unavailable(e.to_string())),
    }
}

impl ShardKvMachine {
    fn admit_group(&self, req: GroupRequest) -> Admission {
        let s = &self.state;
        match req {
            GroupRequest::Duties => Admission::Respond(group_reply(GroupReply::Duties(Duties {
                config_num: s.config().num,
                wants_config: s.wants_config(),
                pulls: s.pulls(),
                gcs: s.gcs(),
            }))),
            GroupRequest::Propose(cmd) => propose(cmd, None),
            GroupRequest::Pull { config_num, shard } => {
                let reply = group_reply(GroupReply::Pull(s.pull(config_num, shard)));
                match s.after_pull(config_num, shard) {
                    // Planted bug `early-gc`: delete as the reply goes out.
                    Some(cmd) => propose(cmd, Some(reply)),
                    None => Admission::Respond(reply),
                }
            }
            GroupRequest::Delete { config_num, shard } => {
                match s.delete_request(config_num, shard) {
                    DeleteAnswer::NotReady => Admission::Respond(group_reply(GroupReply::NotReady)),
                    DeleteAnswer::Done => Admission::Respond(group_reply(GroupReply::Deleted)),
                    DeleteAnswer::Propose(cmd) => propose(cmd, None),
                }
            }
        }
    }
}

impl Machine for ShardKvMachine {
    fn applied(&self) -> Index {
        self.state.applied()
    }

    fn apply_noop(&mut self, index: Index) {
        self.state.apply_noop(index);
    }

    fn apply(&mut self, index: Index, data: &[u8]) -> ClientResponse {
        let out = self.state.apply(index, data);
        match out {
            ShardApply::Client { reply, .. } => ClientResponse::Ok(reply),
            ShardApply::WrongGroup { wrong, .. } => wrong_group(wrong),
            ShardApply::Stale { seq, .. } => ClientResponse::StaleSequence { last_seq: seq },
            ShardApply::ConfigApplied { num } => {
                tracing::info!(index, config = num, "moved to configuration");
                group_reply(GroupReply::Applied(true))
            }
            ShardApply::Installed { config_num, shard } => {
                tracing::info!(index, config = config_num, shard, "installed pulled shard");
                group_reply(GroupReply::Applied(true))
            }
            ShardApply::Deleted { config_num, shard } => {
                tracing::info!(
                    index,
                    config = config_num,
                    shard,
                    "deleted handed-off shard"
                );
                group_reply(GroupReply::Deleted)
            }
            ShardApply::Confirmed { config_num, shard } => {
                tracing::info!(
                    index,
                    config = config_num,
                    shard,
                    "old owner confirmed deletion"
                );
                group_reply(GroupReply::Applied(true))
            }
            ShardApply::Ignored(why) => {
                tracing::debug!(index, why, "migration entry ignored");
                // An ignored Delete means the copy is already gone.
                match ShardCommand::decode(data) {
                    Ok(ShardCommand::Delete { .. }) => group_reply(GroupReply::Deleted),
                    _ => group_reply(GroupReply::Applied(false)),
                }
            }
            ShardApply::Undecodable(e) => {
                tracing::warn!(index, error = %e, "skipped an entry that is not a shard command");
                ClientResponse::Unavailable(e)
            }
        }
    }

    fn admit(&self, request: ClientRequest) -> Admission {
        let ClientRequest { client_id, seq, op } = request;
        match unwrap_request(&op) {
            Some(Ok(req)) => return self.admit_group(req),
            Some(Err(e)) => return Admission::Respond(ClientResponse::Unavailable(e.to_string())),
            None => {}
        }
        if let Err(w) = self.state.check_key(op.key()) {
            return Admission::Respond(wrong_group(w));
        }
        if let Op::Get { key } = op {
            return Admission::Read { key };
        }
        propose(ShardCommand::Client(Command { client_id, seq, op }), None)
    }

    fn read(&self, key: &str) -> ClientResponse {
        match self.state.read(key) {
            Ok(value) => ClientResponse::Ok(crate::kv::Reply::Value(value)),
            Err(w) => wrong_group(w),
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>, NodeError> {
        Ok(self.state.snapshot()?)
    }

    fn restore(&mut self, data: &[u8]) -> Result<(), NodeError> {
        Ok(self.state.restore(data)?)
    }

    fn shard_status(&self) -> Option<(u64, Vec<u64>)> {
        Some((
            self.state.config().num,
            self.state
                .served_shards()
                .into_iter()
                .map(|s| s as u64)
                .collect(),
        ))
    }
}
