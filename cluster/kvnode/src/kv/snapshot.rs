//! The KV snapshot format: a version byte (1), then the bincode encoding of
//! the applied index, every key/value pair (sorted by key) and every session
//! (sorted by client id), so equal states give equal bytes.

use std::collections::BTreeMap;

use faultline_raft::Index;
use serde::{Deserialize, Serialize};

use super::error::KvError;
use super::sessions::Session;

const VERSION: u8 = 1;

/// The decoded content of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotBody {
    pub applied: Index,
    pub data: Vec<(String, String)>,
    pub sessions: Vec<Session>,
}

#[derive(Serialize)]
struct SnapshotRef<'a> {
    applied: Index,
    data: Vec<(&'a String, &'a String)>,
    sessions: &'a [Session],
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encode a state as snapshot bytes.
pub fn encode(
    applied: Index,
    data: &BTreeMap<String, String>,
    sessions: &[Session],
) -> Result<Vec<u8>, KvError> {
    let body = SnapshotRef {
        applied,
        data: data.iter().collect(),
        sessions,
    };
    let mut out = vec![VERSION];
    bincode::serde::encode_into_std_write(&body, &mut out, config()).map_err(|e| {
        KvError::Encode {
            what: "snapshot",
            detail: e.to_string(),
        }
    })?;
    Ok(out)
}

/// Decode snapshot bytes; a wrong version or trailing bytes are refused.
pub fn decode(bytes: &[u8]) -> Result<SnapshotBody, KvError> {
    let err = |detail: String| KvError::Decode {
        what: "snapshot",
        detail,
    };
    let (&version, rest) = bytes.split_first().ok_or_else(|| err("empty".into()))?;
    if version != VERSION {
        return Err(KvError::SnapshotVersion(version));
    }
    let (body, used) = bincode::serde::decode_from_slice::<SnapshotBody, _>(rest, config())
        .map_err(|e| err(e.to_string()))?;
    if used != rest.len() {
        return Err(err(format!("{} trailing bytes", rest.len() - used)));
    }
    Ok(body)
}
