//! Planted bug `skip-session-transfer` caught with real processes: an append
//! applied at the old owner is retried, with the same (client id, seq), at
//! the new owner after its shard moved. Correct code answers it from the
//! session table that moved with the shard; with the bug it applies twice.

use std::time::Duration;

use faultline_harness::deployment::{ShardedDeployment, ShardedOptions};
use faultline_kvnode::client::{ClientOptions, Outcome};
use faultline_kvnode::kv::{Op, Reply};
use faultline_kvnode::node::{ClientRequest, ClientResponse};
use faultline_kvnode::rpc::{self, Identity, RpcConfig};
use faultline_kvnode::shard::key_to_shard;

/// Send `request` to each server until one applies it.
async fn send(servers: &[String], request: &ClientRequest) -> Reply {
    let until = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        for addr in servers {
            let c = rpc::Client::new(
                addr.clone(),
                Identity::Client(request.client_id),
                RpcConfig::default(),
            );
            if let Ok(ClientResponse::Ok(reply)) = c
                .call_typed::<_, ClientResponse>(request, Duration::from_secs(1))
                .await
            {
                return reply;
            }
        }
        assert!(
            std::time::Instant::now() < until,
            "no member applied {request:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn retried_append_across_a_move(bugs: &[&str]) -> Option<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = ShardedOptions::new(2, dir.path());
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    opts.bugs = bugs.iter().map(|s| s.to_string()).collect();
    let mut d = ShardedDeployment::start(opts).expect("start deployment");
    d.join(&[1]).await.unwrap();
    assert!(d.wait_config(&[1], 1, Duration::from_secs(20)).await);
    let key = (0..)
        .map(|i| format!("k{i}"))
        .find(|k| key_to_shard(k, 10) == 9)
        .unwrap();
    let request = ClientRequest {
        client_id: 77,
        seq: 1,
        op: Op::Append {
            key: key.clone(),
            value: "x".into(),
        },
    };
    assert_eq!(send(&d.servers(1), &request).await, Reply::Done);
    // Shard 9 moves to group 2 (join gives it shards 5..=9).
    assert_eq!(d.join(&[2]).await.unwrap(), 2);
    assert!(d.wait_config(&[1, 2], 2, Duration::from_secs(20)).await);
    let mut ctl = d.ctrler_client(ClientOptions::default());
    assert_eq!(ctl.query(2).await.unwrap().owner(9), 2);
    // The client never saw the first reply and retries at the new owner.
    assert_eq!(send(&d.servers(2), &request).await, Reply::Done);
    let mut c = d.client(ClientOptions::default());
    let value = match c.execute(Op::Get { key }).await {
        Outcome::Ok {
            reply: Reply::Value(v),
            ..
        } => v,
        other => panic!("{other:?}"),
    };
    d.stop_all().unwrap();
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_move_with_shards_and_skip_session_transfer_is_caught() {
    assert_eq!(
        retried_append_across_a_move(&[]).await.as_deref(),
        Some("x")
    );
    assert_eq!(
        retried_append_across_a_move(&["skip-session-transfer"])
            .await
            .as_deref(),
        Some("xx"),
        "the planted bug must apply the retried append twice"
    );
}
