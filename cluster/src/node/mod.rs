//! The kvnode server: the Ready loop that drives the Raft core with durable
//! storage, RPC and the KV state machine (`ready_loop`), the client protocol
//! (`protocol`), waiting clients (`waiters`), the status JSON (`status`),
//! start-up (`server`), configuration and timing (`config`) and the log line
//! format (`logging`).

pub mod config;
mod error;
mod events;
pub mod logging;
pub mod protocol;
mod ready_loop;
mod server;
pub mod status;
mod waiters;

pub use config::NodeConfig;
pub use error::NodeError;
pub use protocol::{ClientRequest, ClientResponse};
pub use server::{NodeHandle, start};
pub use status::NodeStatus;
