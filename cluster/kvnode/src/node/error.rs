//! Errors that stop a kvnode: it cannot open or write its data directory,
//! cannot start its core, or cannot bind its port.

use crate::kv::KvError;
use crate::rpc::RpcError;
use crate::shard::ShardError;
use crate::storage::StorageError;
use faultline_raft::RaftError;

/// Why a node could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("raft core: {0}")]
    Raft(#[from] RaftError),
    #[error("state machine: {0}")]
    Kv(#[from] KvError),
    #[error("shard state machine: {0}")]
    Shard(#[from] ShardError),
    #[error("rpc: {0}")]
    Rpc(#[from] RpcError),
    #[error("snapshot: {0}")]
    Snapshot(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
