//! The kvnode server: the Ready loop that drives the Raft core with durable
//! storage, RPC and the KV state machine (`ready_loop`), the client protocol
//! (`protocol`), waiting clients (`waiters`), the status JSON (`status`),
//! start-up (`server`), the state-machine seam (`machine`) and its KV
//! implementations (`kv_machine`, `ctrler_machine`, `shardkv_machine`),
//! the shard group leader's migration task (`shard_duties`), configuration and timing (`config`) and the log line
//! format (`logging`); membership changes: the admin protocol (`admin`),
//! the address book carried by change entries and snapshots
//! (`address_book`) and the loop's admin handling (`membership`).

pub mod address_book;
pub mod admin;
pub mod config;
mod ctrler_machine;
mod error;
mod events;
mod kv_machine;
pub mod logging;
pub mod machine;
mod membership;
pub mod protocol;
mod ready_loop;
mod server;
mod shard_duties;
mod shardkv_machine;
pub mod status;
pub mod tick_clock;
mod waiters;

pub use admin::{AdminRequest, AdminResponse};
pub use config::{NodeConfig, NodeRole};
pub use error::NodeError;
pub use protocol::{ClientRequest, ClientResponse};
pub use server::{NodeHandle, start};
pub use status::NodeStatus;
