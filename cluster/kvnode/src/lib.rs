//! faultline-kvnode: the system under test around the Raft core.
//!
//! It owns storage (WAL, hard state, snapshots: `storage`), framed TCP RPC
//! (`rpc`), the KV state machine and its session table (`kv`), the shard
//! controller and shard group state machines (`shard`), the node server that
//! drives the Raft core's Ready loop (`node`), the clients (`client`), the
//! planted bugs of the kv/client layer (`bugs`) and the `kvnode` binary.
//! It knows nothing of the harness that starts it or of the tests that break
//! it.

pub mod bugs;
pub mod client;
pub mod kv;
pub mod node;
pub mod rpc;
pub mod shard;
pub mod storage;
