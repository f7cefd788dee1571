//! `CtrlerClient`: a client of the shard controller group. It rides on
//! [`KvClient`] (leader finding, retries with the same (client id, seq), so
//! Join / Leave / Move apply exactly once) and speaks the envelope of
//! `shard::envelope`.

use std::collections::BTreeMap;

use faultline_raft::NodeId;

use super::config::{Config, Gid};
use super::ctrler::{CtrlerOp, CtrlerReply};
use super::envelope::{unwrap_reply, wrap_request};
use super::error::ShardError;
use crate::client::{ClientOptions, KvClient, Outcome, fresh_client_id};

/// Why a controller operation did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum CtrlerClientError {
    #[error("controller operation certainly did not apply: {0}")]
    Fail(String),
    #[error("controller operation may or may not have applied: {0}")]
    Indeterminate(String),
    #[error("controller refused the operation: {0}")]
    Refused(String),
    #[error("unexpected controller reply: {0:?}")]
    Unexpected(CtrlerReply),
    #[error(transparent)]
    Codec(#[from] ShardError),
}

/// One logical client of the controller group.
pub struct CtrlerClient {
    inner: KvClient,
}

impl CtrlerClient {
    /// A client of the controller members listening at `nodes`.
    pub fn new(nodes: &BTreeMap<NodeId, String>, opts: ClientOptions) -> CtrlerClient {
        CtrlerClient {
            inner: KvClient::new(fresh_client_id(), nodes, opts),
        }
    }

    /// Run one controller operation.
    pub async fn call(&mut self, op: CtrlerOp) -> Result<CtrlerReply, CtrlerClientError> {
        let request = wrap_request(&op)?;
        match self.inner.execute(request).await {
            Outcome::Ok { reply, .. } => match unwrap_reply(&reply)? {
                CtrlerReply::Refused(why) => Err(CtrlerClientError::Refused(why)),
                reply => Ok(reply),
            },
            Outcome::Fail(why) => Err(CtrlerClientError::Fail(why)),
            Outcome::Indeterminate(why) => Err(CtrlerClientError::Indeterminate(why)),
        }
    }

    async fn change(&mut self, op: CtrlerOp) -> Result<u64, CtrlerClientError> {
        match self.call(op).await? {
            CtrlerReply::Done { num } => Ok(num),
            other => Err(CtrlerClientError::Unexpected(other)),
        }
    }

    /// Add groups; the new configuration's number.
    pub async fn join(
        &mut self,
        groups: BTreeMap<Gid, Vec<String>>,
    ) -> Result<u64, CtrlerClientError> {
        self.change(CtrlerOp::Join(groups)).await
    }

    /// Remove groups; the new configuration's number.
    pub async fn leave(&mut self, gids: Vec<Gid>) -> Result<u64, CtrlerClientError> {
        self.change(CtrlerOp::Leave(gids)).await
    }

    /// Give `shard` to `gid`; the new configuration's number.
    pub async fn move_shard(&mut self, shard: usize, gid: Gid) -> Result<u64, CtrlerClientError> {
        self.change(CtrlerOp::Move { shard, gid }).await
    }

    /// Configuration `num` (-1: the latest).
    pub async fn query(&mut self, num: i64) -> Result<Config, CtrlerClientError> {
        match self.call(CtrlerOp::Query { num }).await? {
            CtrlerReply::Config(c) => Ok(c),
            other => Err(CtrlerClientError::Unexpected(other)),
        }
    }
}
