//! faultline-cluster: the system under test around the Raft core.
//!
//! It will own storage (WAL, hard state, snapshots), RPC, the KV / shard
//! controller / shard group state machines, the client library, the `kvnode`
//! binary, the deterministic simulator (`sim`) and the harness that starts
//! nodes (on loopback or in network namespaces).

pub mod bugs;
pub mod client;
pub mod etcd;
pub mod harness;
pub mod kv;
pub mod netns;
pub mod node;
pub mod rpc;
pub mod shard;
pub mod sim;
pub mod storage;
