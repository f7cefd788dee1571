//! How shard-controller requests travel over the ordinary client protocol:
//! as a Put of the reserved key [`CTRLER_KEY`] whose value is the JSON of a
//! [`CtrlerOp`]; the answer is a `Value` holding the JSON of a
//! [`CtrlerReply`]. So the controller reuses the KV client's leader finding,
//! retries and exactly-once (client id, seq) unchanged.

use super::ctrler::{CtrlerOp, CtrlerReply};
use super::error::ShardError;
use crate::kv::{Op, Reply};

/// The reserved key of controller requests.
pub const CTRLER_KEY: &str = "\u{0}shard-ctrler";

/// A controller operation as a client operation.
pub fn wrap_request(op: &CtrlerOp) -> Result<Op, ShardError> {
    let value = serde_json::to_string(op).map_err(|e| ShardError::Encode {
        what: "controller request",
        detail: e.to_string(),
    })?;
    Ok(Op::Put {
        key: CTRLER_KEY.to_string(),
        value,
    })
}

/// The controller operation inside a client operation (`None`: not one).
pub fn unwrap_request(op: &Op) -> Option<Result<CtrlerOp, ShardError>> {
    match op {
        Op::Put { key, value } if key == CTRLER_KEY => {
            Some(serde_json::from_str(value).map_err(|e| ShardError::Decode {
                what: "controller request",
                detail: e.to_string(),
            }))
        }
        _ => None,
    }
}

/// A controller reply as a client reply.
pub fn wrap_reply(reply: &CtrlerReply) -> Reply {
    Reply::Value(Some(
        serde_json::to_string(reply).expect("controller replies serialise"),
    ))
}

/// The controller reply inside a client reply.
pub fn unwrap_reply(reply: &Reply) -> Result<CtrlerReply, ShardError> {
    let bad = |detail: String| ShardError::Decode {
        what: "controller reply",
        detail,
    };
    match reply {
        Reply::Value(Some(json)) => serde_json::from_str(json).map_err(|e| bad(e.to_string())),
        other => Err(bad(format!("not a controller reply: {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn requests_and_replies_round_trip() {
        let op = CtrlerOp::Join(BTreeMap::from([(1, vec!["127.0.0.1:1".into()])]));
        let wrapped = wrap_request(&op).unwrap();
        assert_eq!(unwrap_request(&wrapped).unwrap().unwrap(), op);
        assert!(unwrap_request(&Op::Get { key: "k".into() }).is_none());
        let reply = CtrlerReply::Done { num: 3 };
        assert_eq!(unwrap_reply(&wrap_reply(&reply)).unwrap(), reply);
        assert!(unwrap_reply(&Reply::Done).is_err());
    }
}
