//! Client timing: the whole-operation deadline, the per-attempt timeout and
//! the pause between rounds of attempts when no node is the leader.

use std::time::Duration;

/// Options of a [`KvClient`](super::KvClient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// After this long an operation gives up: a write that may have been
    /// proposed is then `Indeterminate`.
    pub op_deadline: Duration,
    /// One request to one node waits at most this long.
    pub attempt_timeout: Duration,
    /// Pause after a round over every node found no leader.
    pub retry_pause: Duration,
    /// Planted bug `client-retry-new-seq`: every retry takes a new sequence
    /// number, so a write retried after a lost reply can apply twice.
    pub retry_new_seq: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            op_deadline: Duration::from_secs(5),
            attempt_timeout: Duration::from_millis(1000),
            retry_pause: Duration::from_millis(25),
            retry_new_seq: false,
        }
    }
}
