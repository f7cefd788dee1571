//! Shard groups as real processes (Lab 5 scenarios): a 3-node controller
//! group and shard groups of 3 `kvnode --role shardkv` members. Join, then
//! join another group (half the shards migrate by pull), then leave (every
//! shard moves away) and stop the departed group: every value is still
//! there, and appends made concurrently with the configuration changes
//! (also with the old and new owners' leaders SIGKILLed mid-migration)
//! apply exactly once, in order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use faultline_harness::Harness;
use faultline_harness::deployment::{ShardedDeployment, ShardedOptions};
use faultline_kvnode::client::{ClientOptions, Outcome};
use faultline_kvnode::kv::{Op, Reply};
use faultline_kvnode::shard::ShardClient;

const SETTLE: Duration = Duration::from_secs(20);

fn start(groups: usize, bugs: &[&str]) -> (ShardedDeployment, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = ShardedOptions::new(groups, dir.path());
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    opts.bugs = bugs.iter().map(|s| s.to_string()).collect();
    (
        ShardedDeployment::start(opts).expect("start deployment"),
        dir,
    )
}

fn opts() -> ClientOptions {
    ClientOptions {
        op_deadline: Duration::from_secs(15),
        ..ClientOptions::default()
    }
}

async fn ok(c: &mut ShardClient, op: Op) -> (Reply, u64) {
    match c.execute(op.clone()).await {
        Outcome::Ok { reply, node } => (reply, node),
        other => panic!("{op:?}: {other:?}"),
    }
}

async fn read(c: &mut ShardClient, key: &str) -> (Option<String>, u64) {
    match ok(c, Op::Get { key: key.into() }).await {
        (Reply::Value(v), node) => (v, node),
        other => panic!("{other:?}"),
    }
}

fn append(key: &str, value: &str) -> Op {
    Op::Append {
        key: key.into(),
        value: value.into(),
    }
}

fn dump(d: &ShardedDeployment) {
    for (gid, h) in &d.groups {
        for id in h.node_ids() {
            eprintln!("===== group {gid} node {id} =====\n{}", h.read_log(id));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_migrate_leave_keeps_every_value() {
    let (mut d, _dir) = start(2, &[]);
    assert_eq!(d.join(&[1]).await.unwrap(), 1);
    assert!(
        d.wait_config(&[1], 1, SETTLE).await,
        "group 1 did not take config 1"
    );
    let mut c = d.client(opts());
    for i in 0..20 {
        ok(&mut c, append(&format!("k{i}"), &format!("v{i}."))).await;
    }
    assert_eq!(d.join(&[2]).await.unwrap(), 2);
    let settled = d.wait_config(&[1, 2], 2, SETTLE).await;
    if !settled {
        dump(&d);
    }
    assert!(settled, "groups did not settle at config 2");
    let mut served_by = BTreeMap::new();
    for i in 0..20 {
        let (v, node) = read(&mut c, &format!("k{i}")).await;
        assert_eq!(v, Some(format!("v{i}.")));
        *served_by.entry(node / 100).or_insert(0) += 1;
        ok(&mut c, append(&format!("k{i}"), "w.")).await;
    }
    assert_eq!(served_by.len(), 2, "both groups serve: {served_by:?}");
    // Group 1 leaves: every shard moves to group 2; then group 1 stops.
    let mut ctl = d.ctrler_client(ClientOptions::default());
    assert_eq!(ctl.leave(vec![1]).await.unwrap(), 3);
    assert!(
        d.wait_config(&[2], 3, SETTLE).await,
        "group 2 did not take all shards"
    );
    // Group 1 also reached config 3 and serves nothing.
    let g1 = &d.groups[&1];
    let leader1 = g1.wait_for_leader(Duration::from_secs(5)).await.unwrap();
    let s1 = g1.status(leader1, Duration::from_secs(1)).await.unwrap();
    assert_eq!((s1.config_num, s1.shards.len()), (3, 0));
    d.groups.get_mut(&1).unwrap().stop_all().unwrap();
    for i in 0..20 {
        let (v, node) = read(&mut c, &format!("k{i}")).await;
        assert_eq!(v, Some(format!("v{i}.w.")));
        assert_eq!(node / 100, 2);
    }
    d.stop_all().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_during_configuration_changes_apply_exactly_once() {
    concurrent_appends(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_with_leader_kills_during_migration_apply_exactly_once() {
    concurrent_appends(true).await;
}

async fn concurrent_appends(kill_leaders: bool) {
    let (mut d, _dir) = start(3, &[]);
    d.join(&[1]).await.unwrap();
    assert!(d.wait_config(&[1], 1, SETTLE).await);
    let ctrlers = d.ctrler_addresses();
    let mut writers = Vec::new();
    // Writers append until the configuration changes are over.
    let stop = Arc::new(AtomicBool::new(false));
    for w in 0..3u64 {
        let ctrlers = ctrlers.clone();
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut c = ShardClient::new(1000 + w, &ctrlers, opts());
            let mut done = Vec::new();
            let mut i = 0;
            while i < 10 || !stop.load(Ordering::Relaxed) {
                i += 1;
                let key = format!("k{}", i % 5);
                let token = format!("{w}.{i};");
                match c.execute(append(&key, &token)).await {
                    Outcome::Ok { .. } => done.push((key, token)),
                    other => panic!("writer {w} op {i}: {other:?}"),
                }
            }
            done
        }));
    }
    // Configuration changes while the writers run.
    let mut ctl = d.ctrler_client(ClientOptions::default());
    ctl.join(BTreeMap::from([(2, d.servers(2))])).await.unwrap();
    if kill_leaders {
        // SIGKILL the leaders of the old and the new owner mid-migration.
        for gid in [1, 2] {
            let h = d.groups.get_mut(&gid).unwrap();
            let leader = h.wait_for_leader(Duration::from_secs(10)).await.unwrap();
            h.kill(leader).unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            h.restart(leader).unwrap();
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    ctl.join(BTreeMap::from([(3, d.servers(3))])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    ctl.move_shard(0, 1).await.unwrap();
    ctl.leave(vec![2]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for w in writers {
        for (key, token) in w.await.unwrap() {
            expected.entry(key).or_default().push(token);
        }
    }
    let last = ctl.query(-1).await.unwrap().num;
    let settled = d.wait_config(&[1, 3], last, SETTLE).await;
    if !settled {
        dump(&d);
    }
    assert!(settled);
    let mut c = d.client(opts());
    for (key, tokens) in expected {
        let (v, _) = read(&mut c, &key).await;
        let v = v.unwrap_or_default();
        for t in &tokens {
            assert_eq!(v.matches(t.as_str()).count(), 1, "{t} in {key}={v}");
        }
        // Each writer's tokens appear in its order.
        for w in 0..3 {
            let mine: Vec<&str> = v
                .split(';')
                .filter(|t| t.starts_with(&format!("{w}.")))
                .collect();
            let want: Vec<String> = tokens
                .iter()
                .filter(|t| t.starts_with(&format!("{w}.")))
                .map(|t| t.trim_end_matches(';').to_string())
                .collect();
            assert_eq!(mine, want, "order of writer {w} in {key}");
        }
    }
    d.stop_all().unwrap();
}
