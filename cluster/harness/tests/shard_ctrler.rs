//! The shard controller as real processes: a 3-node `kvnode --role ctrler`
//! group serving Join / Leave / Move / Query through its log, surviving the
//! leader's SIGKILL with every configuration intact, and refusing KV
//! operations.

use std::collections::BTreeMap;
use std::time::Duration;

use faultline_harness::{Harness, LoopbackHarness, LoopbackOptions};
use faultline_kvnode::client::{ClientOptions, KvClient, Outcome, fresh_client_id};
use faultline_kvnode::kv::Op;
use faultline_kvnode::shard::{CtrlerClient, CtrlerClientError, Gid};

fn start(nodes: usize) -> (LoopbackHarness, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = LoopbackOptions::new(nodes, dir.path());
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    opts.extra_args = vec![
        "--role".into(),
        "ctrler".into(),
        "--shards".into(),
        "10".into(),
    ];
    (
        LoopbackHarness::start(opts).expect("start controller group"),
        dir,
    )
}

fn group(gid: Gid) -> BTreeMap<Gid, Vec<String>> {
    BTreeMap::from([(gid, vec![format!("127.0.0.1:{}", 9000 + gid)])])
}

fn counts(shards: &[Gid]) -> BTreeMap<Gid, usize> {
    let mut c = BTreeMap::new();
    for g in shards {
        *c.entry(*g).or_default() += 1;
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_leave_move_query_survive_a_leader_kill() {
    let (mut h, _dir) = start(3);
    let leader = h
        .wait_for_leader(Duration::from_secs(10))
        .await
        .expect("a leader");
    let mut c = CtrlerClient::new(&h.addresses(), ClientOptions::default());
    assert_eq!(c.query(-1).await.unwrap().num, 0);
    assert_eq!(c.join(group(1)).await.unwrap(), 1);
    assert_eq!(c.join(group(2)).await.unwrap(), 2);
    assert_eq!(c.join(group(3)).await.unwrap(), 3);
    let three = c.query(-1).await.unwrap();
    assert_eq!(
        counts(&three.shards).values().copied().collect::<Vec<_>>(),
        vec![4, 3, 3]
    );
    assert_eq!(three.servers(2), &["127.0.0.1:9002".to_string()]);

    h.kill(leader).unwrap();
    assert_eq!(c.leave(vec![1]).await.unwrap(), 4);
    let after_leave = c.query(-1).await.unwrap();
    assert_eq!(
        counts(&after_leave.shards),
        BTreeMap::from([(2, 5), (3, 5)])
    );
    // Shards of groups 2 and 3 stayed where they were.
    for s in 0..10 {
        if three.shards[s] != 1 {
            assert_eq!(after_leave.shards[s], three.shards[s]);
        }
    }
    assert_eq!(c.move_shard(0, 3).await.unwrap(), 5);
    assert_eq!(c.query(-1).await.unwrap().owner(0), 3);
    assert!(matches!(
        c.move_shard(0, 42).await,
        Err(CtrlerClientError::Refused(_))
    ));
    // Old configurations are still there after the leader change.
    assert_eq!(c.query(3).await.unwrap(), three);
    assert_eq!(c.query(1).await.unwrap().shards, vec![1; 10]);

    // The killed node comes back and catches up; status shows the config.
    h.restart(leader).unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(s) = h.status(leader, Duration::from_millis(300)).await
            && s.config_num == 5
        {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "restarted node did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A KV operation is refused by a controller node (certainly not applied).
    let mut kv = KvClient::new(
        fresh_client_id(),
        &h.addresses(),
        ClientOptions {
            op_deadline: Duration::from_millis(500),
            ..ClientOptions::default()
        },
    );
    let out = kv.execute(Op::Get { key: "k".into() }).await;
    assert!(matches!(out, Outcome::Fail(_)), "{out:?}");
    h.stop_all().unwrap();
}
