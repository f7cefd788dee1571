//! The outcome of one client operation, in the history's terms: `ok`,
//! `fail` (certainly did not take effect) or `info` (unknown).

use std::time::Duration;

use faultline_raft::NodeId;

use crate::kv::Reply;

/// What became of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It took effect (a Cas whose compare failed is `Ok` with
    /// `applied: false`); `node` served it.
    Ok { reply: Reply, node: NodeId },
    /// It certainly did not take effect.
    Fail(String),
    /// It may or may not have taken effect, now or later.
    Indeterminate(String),
}

impl Outcome {
    /// The history `type` of this outcome.
    pub fn history_type(&self) -> &'static str {
        match self {
            Outcome::Ok { .. } => "ok",
            Outcome::Fail(_) => "fail",
            Outcome::Indeterminate(_) => "info",
        }
    }
    /// The end of an operation whose deadline of `deadline` passed, the
    /// last attempt failing with `last_error`: unknown when it is a write
    /// that may have been proposed, certainly not applied otherwise.
    pub(crate) fn deadline_passed(
        deadline: Duration,
        last_error: &str,
        maybe_applied: bool,
    ) -> Outcome {
        let why = format!("deadline of {deadline:?} passed; last error: {last_error}");
        if maybe_applied {
            Outcome::Indeterminate(why)
        } else {
            Outcome::Fail(why)
        }
    }
}
