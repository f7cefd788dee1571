//! Where each group member listens: the address book. It starts from
//! `--peers` and learns the address of every member added later from the
//! context of the change entry that adds it (when the entry reaches this
//! node's log, before it commits, which is when the configuration takes
//! effect). Snapshots carry it (`NodeSnapshot` wraps the state machine's
//! snapshot), so a member that catches up by snapshot, or restarts after
//! compaction, still knows every member's address.

use std::collections::BTreeMap;

use faultline_raft::{ConfChange, Entry, EntryKind, NodeId};
use serde::{Deserialize, Serialize};

use super::admin::MemberContext;
use super::error::NodeError;
use crate::rpc;

/// Member id → address (host:port).
pub type AddressBook = BTreeMap<NodeId, String>;

/// The addresses `entry` teaches: a change adding a member with an address
/// in its context.
pub fn learned_from(entry: &Entry) -> Option<(NodeId, String)> {
    match entry.kind {
        EntryKind::ConfChange(ConfChange::AddVoter(id) | ConfChange::AddLearner(id)) => {
            MemberContext::decode(&entry.data).map(|c| (id, c.addr))
        }
        _ => None,
    }
}

/// A kvnode snapshot: the address book and the state machine's own bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSnapshot {
    pub addresses: AddressBook,
    pub machine: Vec<u8>,
}

impl NodeSnapshot {
    pub fn encode(&self) -> Result<Vec<u8>, NodeError> {
        rpc::encode_payload(self).map_err(|e| NodeError::Snapshot(format!("encoding: {e}")))
    }

    pub fn decode(data: &[u8]) -> Result<NodeSnapshot, NodeError> {
        rpc::decode_payload(data).map_err(|e| {
            NodeError::Snapshot(format!(
                "the snapshot is not a kvnode snapshot ({e}); was the data directory written by another version?"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_add_with_context_teaches_its_address_and_snapshots_round_trip() {
        let e = Entry {
            term: 1,
            index: 5,
            kind: EntryKind::ConfChange(ConfChange::AddVoter(4)),
            data: MemberContext {
                addr: "10.0.0.4:7400".into(),
            }
            .encode(),
        };
        assert_eq!(learned_from(&e), Some((4, "10.0.0.4:7400".to_string())));
        let plain = Entry {
            kind: EntryKind::ConfChange(ConfChange::Remove(4)),
            data: Vec::new(),
            ..e
        };
        assert_eq!(learned_from(&plain), None);
        let s = NodeSnapshot {
            addresses: BTreeMap::from([(4, "a:1".to_string())]),
            machine: vec![1, 2, 3],
        };
        assert_eq!(NodeSnapshot::decode(&s.encode().unwrap()).unwrap(), s);
        assert!(NodeSnapshot::decode(b"garbage that is not a snapshot").is_err());
    }
}
