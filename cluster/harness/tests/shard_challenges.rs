//! Lab 5 Challenge 2 and "missing change" as real processes: a group that is
//! down when it joins blocks only the shards moving to it. The shards the
//! old owner keeps are served throughout; the moving ones are refused
//! (`ErrWrongGroup`, then the client gives up) until the new group starts,
//! walks configurations 1 → 2 and pulls them, with every value intact.

use std::time::Duration;

use faultline_harness::Harness;
use faultline_harness::deployment::{ShardedDeployment, ShardedOptions};
use faultline_kvnode::client::{ClientOptions, Outcome};
use faultline_kvnode::kv::{Op, Reply};
use faultline_kvnode::shard::key_to_shard;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_new_owner_blocks_only_its_shards() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = ShardedOptions::new(2, dir.path());
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    let mut d = ShardedDeployment::start(opts).expect("start deployment");
    d.groups.get_mut(&2).unwrap().stop_all().unwrap();
    d.join(&[1]).await.unwrap();
    assert!(d.wait_config(&[1], 1, Duration::from_secs(20)).await);
    let long = ClientOptions {
        op_deadline: Duration::from_secs(15),
        ..ClientOptions::default()
    };
    let mut c = d.client(long.clone());
    let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    for k in &keys {
        let put = Op::Put {
            key: k.clone(),
            value: format!("v-{k}"),
        };
        assert!(matches!(c.execute(put).await, Outcome::Ok { .. }));
    }
    // Group 2 joins while all its members are down.
    assert_eq!(d.join(&[2]).await.unwrap(), 2);
    let cfg = d
        .ctrler_client(ClientOptions::default())
        .query(2)
        .await
        .unwrap();
    let mut short = d.client(ClientOptions {
        op_deadline: Duration::from_millis(800),
        ..ClientOptions::default()
    });
    // Wait until group 1 has applied config 2 (a moving key is refused).
    let moving: Vec<&String> = keys
        .iter()
        .filter(|k| cfg.owner(key_to_shard(k, 10)) == 2)
        .collect();
    let kept: Vec<&String> = keys
        .iter()
        .filter(|k| cfg.owner(key_to_shard(k, 10)) == 1)
        .collect();
    assert!(!moving.is_empty() && !kept.is_empty());
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while matches!(
        short
            .execute(Op::Get {
                key: moving[0].clone()
            })
            .await,
        Outcome::Ok { .. }
    ) {
        assert!(
            std::time::Instant::now() < until,
            "group 1 never moved to config 2"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Challenge 2: kept shards are served (reads and writes) meanwhile ...
    for k in &kept {
        let out = short
            .execute(Op::Append {
                key: (*k).clone(),
                value: "+".into(),
            })
            .await;
        assert!(matches!(out, Outcome::Ok { .. }), "{k}: {out:?}");
    }
    // ... and the moving ones are not (certainly not applied).
    for k in &moving {
        let out = short
            .execute(Op::Append {
                key: (*k).clone(),
                value: "lost?".into(),
            })
            .await;
        assert!(matches!(out, Outcome::Fail(_)), "{k}: {out:?}");
    }
    // Group 2 comes up from configuration 0, catches up, and pulls.
    let g2 = d.groups.get_mut(&2).unwrap();
    for id in g2.node_ids() {
        g2.restart(id).unwrap();
    }
    assert!(
        d.wait_config(&[1, 2], 2, Duration::from_secs(20)).await,
        "group 2 did not catch up"
    );
    for k in &keys {
        let want = if kept.contains(&k) {
            format!("v-{k}+")
        } else {
            format!("v-{k}")
        };
        match c.execute(Op::Get { key: k.clone() }).await {
            Outcome::Ok {
                reply: Reply::Value(v),
                node,
            } => {
                assert_eq!(v, Some(want), "{k}");
                assert_eq!(node / 100, cfg.owner(key_to_shard(k, 10)));
            }
            other => panic!("{k}: {other:?}"),
        }
    }
    d.stop_all().unwrap();
}
