//! Errors of the KV state machine: bytes that do not decode as a command or
//! a snapshot.

/// A command or snapshot that cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("cannot decode {what}: {detail}")]
    Decode { what: &'static str, detail: String },
    #[error("cannot encode {what}: {detail}")]
    Encode { what: &'static str, detail: String },
    #[error("unsupported KV snapshot version {0} (this build reads version 1)")]
    SnapshotVersion(u8),
}
