//! Lab 5 Challenge 1 as real processes: after half the shards move away,
//! the old owner's state really shrinks. Measured on its snapshot file (the
//! whole state machine, written every few entries with
//! `--snapshot-entries 5`): it must drop well below its size before the move.

use std::path::Path;
use std::time::Duration;

use faultline_harness::Harness;
use faultline_harness::deployment::{ShardedDeployment, ShardedOptions};
use faultline_kvnode::client::{ClientOptions, Outcome};
use faultline_kvnode::kv::Op;
use faultline_kvnode::shard::key_to_shard;

fn snapshot_len(data_dir: &Path) -> u64 {
    std::fs::metadata(data_dir.join("snapshot")).map_or(0, |m| m.len())
}

async fn largest_snapshot(d: &ShardedDeployment, gid: u64) -> u64 {
    let h = &d.groups[&gid];
    h.node_ids()
        .into_iter()
        .map(|id| snapshot_len(&h.data_dir(id)))
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_owner_shrinks_after_its_shards_move() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = ShardedOptions::new(2, dir.path());
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    opts.extra_args = vec!["--snapshot-entries".into(), "5".into()];
    let mut d = ShardedDeployment::start(opts).expect("start deployment");
    d.join(&[1]).await.unwrap();
    assert!(d.wait_config(&[1], 1, Duration::from_secs(20)).await);
    let mut c = d.client(ClientOptions {
        op_deadline: Duration::from_secs(15),
        ..ClientOptions::default()
    });
    let big = "x".repeat(2000);
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    for k in &keys {
        let put = Op::Put {
            key: k.clone(),
            value: big.clone(),
        };
        assert!(matches!(c.execute(put).await, Outcome::Ok { .. }));
    }
    let before = largest_snapshot(&d, 1).await;
    assert!(
        before > 30 * 2000,
        "snapshot before the move: {before} bytes"
    );
    assert_eq!(d.join(&[2]).await.unwrap(), 2);
    assert!(d.wait_config(&[1, 2], 2, Duration::from_secs(20)).await);
    // A few more writes to group 1's own keys make it snapshot again.
    let cfg = d
        .ctrler_client(ClientOptions::default())
        .query(2)
        .await
        .unwrap();
    let kept: Vec<&String> = keys
        .iter()
        .filter(|k| cfg.owner(key_to_shard(k, 10)) == 1)
        .collect();
    let moved = keys.len() - kept.len();
    assert!(moved >= 10, "{moved} keys moved");
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let mut after = before;
    while std::time::Instant::now() < until {
        for k in kept.iter().take(6) {
            let put = Op::Put {
                key: (*k).clone(),
                value: big.clone(),
            };
            assert!(matches!(c.execute(put).await, Outcome::Ok { .. }));
        }
        after = largest_snapshot(&d, 1).await;
        if after + (moved as u64 - 2) * 2000 <= before {
            break;
        }
    }
    assert!(
        after + (moved as u64 - 2) * 2000 <= before,
        "old owner's snapshot {before} -> {after} bytes after {moved} of 40 keys moved away"
    );
    d.stop_all().unwrap();
}
