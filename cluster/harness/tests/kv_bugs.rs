//! The planted KV bugs do what they say, seen at the protocol level:
//! `no-dedup` applies a retried Append twice, `ack-before-commit` acknowledges
//! a Put that a leader without a quorum can never commit.

mod kv_common;

use std::time::Duration;

use faultline_harness::Harness;
use faultline_kvnode::client::{ClientOptions, Outcome};
use faultline_kvnode::kv::Reply;
use faultline_kvnode::node::{ClientRequest, ClientResponse};
use faultline_kvnode::rpc::{Client, Identity, RpcConfig};
use kv_common::*;

/// Send the same (client id, seq) Append twice, as a retry after a lost reply does.
async fn append_twice(bugs: &[&str]) -> Option<String> {
    let g = start(3, &[], bugs);
    let leader = g.leader().await;
    let rpc = Client::new(
        g.h.addresses()[&leader].clone(),
        Identity::Client(5),
        RpcConfig::default(),
    );
    let req = ClientRequest {
        client_id: 5,
        seq: 1,
        op: append("k", "x"),
    };
    for _ in 0..2 {
        let resp: ClientResponse = rpc.call_typed(&req, Duration::from_secs(2)).await.unwrap();
        assert_eq!(resp, ClientResponse::Ok(Reply::Done));
    }
    read(&mut g.client(), "k").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_append_applies_once() {
    assert_eq!(append_twice(&[]).await.as_deref(), Some("x"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dedup_applies_a_retried_append_twice() {
    assert_eq!(append_twice(&["no-dedup"]).await.as_deref(), Some("xx"));
}

/// Kill both followers, then Put through the (still) leader.
async fn put_without_quorum(bugs: &[&str]) -> Outcome {
    let mut g = start(3, &[], bugs);
    let leader = g.leader().await;
    let mut c = g.client_with(ClientOptions {
        op_deadline: Duration::from_millis(800),
        ..ClientOptions::default()
    });
    ok(&mut c, put("k", "before")).await;
    for id in g.h.node_ids().into_iter().filter(|&id| id != leader) {
        g.h.kill(id).unwrap();
    }
    c.execute(put("k", "lost")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_without_quorum_is_not_acknowledged() {
    let outcome = put_without_quorum(&[]).await;
    assert!(matches!(outcome, Outcome::Indeterminate(_)), "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_before_commit_acknowledges_a_put_that_cannot_commit() {
    let outcome = put_without_quorum(&["ack-before-commit"]).await;
    assert!(
        matches!(
            outcome,
            Outcome::Ok {
                reply: Reply::Done,
                ..
            }
        ),
        "{outcome:?}"
    );
}
