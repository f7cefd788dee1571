//! The client library of a KV group: one [`KvClient`] per logical client
//! (one outstanding operation at a time), with a leader cache fed by hints,
//! retries that reuse (client id, seq) so a write applies at most once, and a
//! per-operation deadline after which a write's outcome is
//! [`Outcome::Indeterminate`] (a workload records it as `info`); and
//! [`AdminClient`] for membership changes.

mod admin_client;
mod attempt;
mod kv_client;
mod options;
mod outcome;

pub use admin_client::{AdminClient, AdminError, Committed};
pub(crate) use attempt::Attempt;
pub use kv_client::{KvClient, fresh_client_id};
pub use options::ClientOptions;
pub use outcome::Outcome;
