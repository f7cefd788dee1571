//! What shard groups say to each other and to their own leader's duty task,
//! carried over the ordinary client protocol as a Put of the reserved key
//! [`GROUP_KEY`] whose value is the JSON of a [`GroupRequest`]; the answer
//! is a `Value` holding the JSON of a [`GroupReply`]. A client operation on
//! a shard the group does not serve is answered `Unavailable` with a message
//! starting with [`WRONG_GROUP`].

use serde::{Deserialize, Serialize};

use super::config::Gid;
use super::error::ShardError;
use super::migration::{PullReply, ShardCommand};
use crate::kv::{Op, Reply};

/// The reserved key of group requests.
pub const GROUP_KEY: &str = "\u{0}shard-group";
/// Prefix of the `Unavailable` message for a shard not served here.
pub const WRONG_GROUP: &str = "ErrWrongGroup";

/// The leader's pending migration work, as its duty task sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duties {
    pub config_num: u64,
    /// The configuration to fetch next, when nothing is in flight.
    pub wants_config: Option<u64>,
    /// (shard, previous owner, its servers) to pull.
    pub pulls: Vec<(usize, Gid, Vec<String>)>,
    /// (shard, previous owner, its servers) to ask to delete.
    pub gcs: Vec<(usize, Gid, Vec<String>)>,
}

/// A request to a shard group's leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupRequest {
    /// The leader's own duty task asks what to do.
    Duties,
    /// The duty task puts a migration command through the log.
    Propose(ShardCommand),
    /// Another group pulls a shard.
    Pull { config_num: u64, shard: usize },
    /// Another group, having installed a shard, asks this old owner to
    /// delete its copy.
    Delete { config_num: u64, shard: usize },
}

/// A group's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupReply {
    Duties(Duties),
    /// The proposed command applied (`true`) or was ignored as out of date.
    Applied(bool),
    Pull(PullReply),
    /// The old owner is not at that configuration yet.
    NotReady,
    /// The old owner no longer holds the shard.
    Deleted,
}

fn enc_err(what: &'static str, e: serde_json::Error) -> ShardError {
    ShardError::Encode {
        what,
        detail: e.to_string(),
    }
}

fn dec_err(what: &'static str, detail: String) -> ShardError {
    ShardError::Decode { what, detail }
}

/// A group request as a client operation.
pub fn wrap_request(req: &GroupRequest) -> Result<Op, ShardError> {
    Ok(Op::Put {
        key: GROUP_KEY.to_string(),
        value: serde_json::to_string(req).map_err(|e| enc_err("group request", e))?,
    })
}

/// The group request inside a client operation (`None`: not one).
pub fn unwrap_request(op: &Op) -> Option<Result<GroupRequest, ShardError>> {
    match op {
        Op::Put { key, value } if key == GROUP_KEY => {
            Some(serde_json::from_str(value).map_err(|e| dec_err("group request", e.to_string())))
        }
        _ => None,
    }
}

/// A group reply as a client reply.
pub fn wrap_reply(reply: &GroupReply) -> Reply {
    Reply::Value(Some(
        serde_json::to_string(reply).expect("group replies serialise"),
    ))
}

/// The group reply inside a client reply.
pub fn unwrap_reply(reply: &Reply) -> Result<GroupReply, ShardError> {
    match reply {
        Reply::Value(Some(json)) => {
            serde_json::from_str(json).map_err(|e| dec_err("group reply", e.to_string()))
        }
        other => Err(dec_err("group reply", format!("{other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::{ShardData, ShardSession};

    #[test]
    fn pulled_shards_round_trip_through_json() {
        let mut content = ShardData::default();
        content.data.insert("k".into(), "v".into());
        content.sessions.insert(
            u64::MAX - 3,
            ShardSession {
                seq: 9,
                reply: Reply::Done,
            },
        );
        let reply = GroupReply::Pull(PullReply::Shard(content));
        assert_eq!(unwrap_reply(&wrap_reply(&reply)).unwrap(), reply);
        let req = GroupRequest::Propose(ShardCommand::Confirmed {
            config_num: 3,
            shard: 1,
        });
        assert_eq!(
            unwrap_request(&wrap_request(&req).unwrap())
                .unwrap()
                .unwrap(),
            req
        );
    }
}
