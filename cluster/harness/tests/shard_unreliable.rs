//! Lab 5's unreliable-network scenarios with real processes in network
//! namespaces: a controller group and three shard groups, every member in
//! its own namespace on one shared bridge.
//!
//! - Packet loss (iptables `statistic` rules) on every link — between all
//!   members of all groups and between the host's clients and every member —
//!   while groups join and leave and clients append: a single client that
//!   reads back every key after each append (TestUnreliable1), and
//!   concurrent writers on shared keys (TestUnreliable2/3). After healing,
//!   every acknowledged append is present exactly once, every failed one is
//!   absent, every one of unknown outcome at most once, and each writer's
//!   appends to a key are in its order.
//! - A partition isolating every member of one shard group (from the
//!   controller, the other groups and each other): the other groups' shards
//!   keep being served and can even migrate between them; the isolated
//!   group's shards do not answer until the heal.
//!
//! Needs root, iproute2 (`ip`), iptables and libfaketime; skipped with a
//! message saying so when any is missing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use faultline_harness::deployment::{Member, ShardedDeployment, ShardedOptions};
use faultline_harness::netns::faketime::find_libfaketime;
use faultline_harness::netns::{Network, Purpose, preflight};
use faultline_kvnode::client::{ClientOptions, Outcome};
use faultline_kvnode::kv::{Op, Reply};
use faultline_kvnode::shard::{ShardClient, key_to_shard};
use faultline_workloads::NetControl;

const NEEDS: &str =
    "the sharded namespace tests need root, iproute2 (`ip`), iptables and libfaketime";
const SETTLE: Duration = Duration::from_secs(30);
/// Probability that any packet on any link is dropped while the network is
/// unreliable.
const LOSS: f64 = 0.1;
/// How long a client waits for one request's answer before retrying it
/// (TCP's shortest retransmission timeout is 200 ms, so a lost segment
/// often means a retry).
const ATTEMPT: Duration = Duration::from_millis(150);

/// A deployment of `groups` shard groups in namespaces, or `None` (after
/// saying why) when this machine cannot make namespaces.
fn start(groups: usize) -> Option<(ShardedDeployment, tempfile::TempDir)> {
    if let Err(e) = preflight().and_then(|_| find_libfaketime().map(drop)) {
        eprintln!("{NEEDS}; skipping: {e}");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = ShardedOptions::new(groups, dir.path());
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    opts.netns = true;
    let d = ShardedDeployment::start(opts).unwrap_or_else(|e| panic!("{NEEDS}: {e}"));
    assert_eq!(d.mode(), "netns");
    Some((d, dir))
}

fn net(d: &ShardedDeployment) -> Arc<Network> {
    d.network().expect("a namespace network")
}

/// Client options: give up on an operation after `deadline`, and on one
/// request after [`ATTEMPT`], so a delayed packet makes the client retry
/// (same client id and sequence) as a lost one would in Lab 5.
fn opts(deadline: Duration) -> ClientOptions {
    ClientOptions {
        op_deadline: deadline,
        attempt_timeout: ATTEMPT,
        ..ClientOptions::default()
    }
}

fn append(key: &str, value: &str) -> Op {
    Op::Append {
        key: key.into(),
        value: value.into(),
    }
}

/// Read `key`, insisting the read succeeds.
async fn read(c: &mut ShardClient, key: &str) -> String {
    match c.execute(Op::Get { key: key.into() }).await {
        Outcome::Ok {
            reply: Reply::Value(v),
            ..
        } => v.unwrap_or_default(),
        other => panic!("get {key}: {other:?}"),
    }
}

fn dump(d: &ShardedDeployment) {
    for m in d.members() {
        let h = d.harness_of(m).unwrap();
        eprintln!("===== {m} =====\n{}", h.read_log(m.id()));
    }
}

/// Heal every fault, then wait until `gids` serve every shard at the
/// controller's latest configuration.
async fn heal_and_settle(d: &ShardedDeployment, gids: &[u64]) {
    let n = net(d);
    n.heal_loss().unwrap();
    n.heal_cuts().unwrap();
    let left: Vec<_> = n
        .rules()
        .into_iter()
        .filter(|r| r.purpose != Purpose::Bridge)
        .collect();
    assert!(left.is_empty(), "fault rules left: {left:?}");
    let last = d
        .ctrler_client(opts(SETTLE))
        .query(-1)
        .await
        .expect("latest configuration")
        .num;
    let settled = d.wait_config(gids, last, SETTLE).await;
    if !settled {
        dump(d);
    }
    assert!(settled, "groups {gids:?} did not settle at config {last}");
}

/// What one writer knows about its appends.
#[derive(Default)]
struct Appends {
    /// (key, token) of appends that took effect.
    ok: Vec<(String, String)>,
    /// Appends that certainly did not.
    failed: Vec<(String, String)>,
    /// Appends whose outcome is unknown.
    unknown: Vec<(String, String)>,
}

/// Check the final value of `key` against every writer's appends: tokens
/// are `<writer>.<i>;`, acknowledged ones appear once, failed ones never,
/// unknown ones at most once, and each writer's are in its order.
fn check_value(key: &str, value: &str, writers: &[Appends]) {
    let present: Vec<&str> = value.split_terminator(';').collect();
    let count = |t: &str| {
        present
            .iter()
            .filter(|p| **p == t.trim_end_matches(';'))
            .count()
    };
    for (w, a) in writers.iter().enumerate() {
        for (k, t) in a.ok.iter().filter(|(k, _)| k == key) {
            assert_eq!(count(t), 1, "writer {w}: acknowledged {t} in {k}={value}");
        }
        for (k, t) in a.failed.iter().filter(|(k, _)| k == key) {
            assert_eq!(count(t), 0, "writer {w}: failed {t} in {k}={value}");
        }
        for (k, t) in a.unknown.iter().filter(|(k, _)| k == key) {
            assert!(
                count(t) <= 1,
                "writer {w}: unknown {t} twice in {k}={value}"
            );
        }
        let order: Vec<u64> = present
            .iter()
            .filter_map(|p| p.strip_prefix(&format!("{w}.")))
            .map(|i| i.parse().expect("token number"))
            .collect();
        assert!(
            order.windows(2).all(|p| p[0] < p[1]),
            "writer {w}'s appends out of order in {key}={value}"
        );
    }
    for p in &present {
        let token = format!("{p};");
        assert!(
            writers
                .iter()
                .flat_map(|a| a.ok.iter().chain(&a.unknown))
                .any(|(k, t)| k == key && *t == token),
            "{key}={value} holds {p}, which no append there may have written"
        );
    }
}

/// Check a read of `key` (`got`) against the appends known to have taken
/// effect (`want`): it is `want` with at most some appends of unknown
/// outcome added, each once. Those become known (`want` = `got`).
fn resolve(key: &str, got: &str, want: &mut String, unknown: &mut Vec<String>) {
    let mut known = String::new();
    for token in got.split_terminator(';').map(|t| format!("{t};")) {
        // An unknown append seen once is known from then on (a second copy
        // would stay in `known` and fail the comparison).
        match unknown.iter().position(|u| *u == token) {
            Some(i) => drop(unknown.remove(i)),
            None => known.push_str(&token),
        }
    }
    assert_eq!(
        &known, want,
        "{key}={got}: only appends of unknown outcome may differ"
    );
    *want = got.to_string();
}

/// TestUnreliable1: one client appends to every key and reads each back
/// while groups join and leave over a lossy network; every read returns
/// exactly the appends made so far (an append of unknown outcome is
/// resolved by the read that follows it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreliable_appends_read_back_exactly_across_joins_and_leaves() {
    let Some((d, _dir)) = start(3) else { return };
    d.join(&[1]).await.unwrap();
    assert!(d.wait_config(&[1], 1, SETTLE).await, "group 1 at config 1");
    let added = net(&d).set_loss_including_host(LOSS).unwrap();
    let members = d.members().len();
    assert_eq!(added, members * (members - 1) + members);

    let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    // Appends of unknown outcome not yet seen by a read.
    let mut unknown: Vec<String> = Vec::new();
    let mut c = d.client(opts(Duration::from_secs(20)));
    let mut ctl = d.ctrler_client(opts(SETTLE));
    // Each round one change runs while the client appends and reads.
    let changes: [(&str, Vec<u64>); 5] = [
        ("join", vec![2]),
        ("join", vec![3]),
        ("leave", vec![1]),
        ("join", vec![1]),
        ("leave", vec![2]),
    ];
    for (round, (what, gids)) in changes.into_iter().enumerate() {
        let change = {
            let servers: BTreeMap<u64, Vec<String>> =
                gids.iter().map(|&g| (g, d.servers(g))).collect();
            let mut ctl = d.ctrler_client(opts(SETTLE));
            tokio::spawn(async move {
                match what {
                    "join" => ctl.join(servers).await,
                    _ => ctl.leave(gids).await,
                }
            })
        };
        for key in &keys {
            let token = format!("{round}.{key};");
            let want = expected.entry(key.clone()).or_default();
            match c.execute(append(key, &token)).await {
                Outcome::Ok { .. } => want.push_str(&token),
                Outcome::Fail(_) => {}
                Outcome::Indeterminate(_) => unknown.push(token),
            }
            let got = read(&mut c, key).await;
            resolve(key, &got, want, &mut unknown);
        }
        change.await.unwrap().expect("configuration change");
    }
    let in_use = [1, 3];
    heal_and_settle(&d, &in_use).await;
    let mut c = d.client(opts(SETTLE));
    for (key, want) in expected.iter_mut() {
        let got = read(&mut c, key).await;
        resolve(key, &got, want, &mut unknown);
    }
    let config = ctl.query(-1).await.unwrap();
    assert!(config.shards.iter().all(|g| in_use.contains(g)));
}

/// TestUnreliable2/3: three writers append to shared keys while groups
/// join, leave and shards move, over a lossy network; after the heal every
/// value holds exactly what the outcomes allow, in each writer's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreliable_concurrent_appends_during_joins_and_leaves_apply_exactly_once() {
    let Some((d, _dir)) = start(3) else { return };
    d.join(&[1]).await.unwrap();
    assert!(d.wait_config(&[1], 1, SETTLE).await, "group 1 at config 1");
    net(&d).set_loss_including_host(LOSS).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let ctrlers = d.ctrler_addresses();
    let mut writers = Vec::new();
    for w in 0..3u64 {
        let (ctrlers, stop) = (ctrlers.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut c = ShardClient::new(5000 + w, &ctrlers, opts(Duration::from_secs(10)));
            let mut a = Appends::default();
            let mut i = 0u64;
            while i < 10 || !stop.load(Ordering::Relaxed) {
                i += 1;
                let entry = (format!("k{}", i % 6), format!("{w}.{i};"));
                match c.execute(append(&entry.0, &entry.1)).await {
                    Outcome::Ok { .. } => a.ok.push(entry),
                    Outcome::Fail(_) => a.failed.push(entry),
                    Outcome::Indeterminate(_) => a.unknown.push(entry),
                }
            }
            a
        }));
    }
    let mut ctl = d.ctrler_client(opts(SETTLE));
    let pause = || tokio::time::sleep(Duration::from_millis(500));
    ctl.join(BTreeMap::from([(2, d.servers(2))])).await.unwrap();
    pause().await;
    ctl.join(BTreeMap::from([(3, d.servers(3))])).await.unwrap();
    pause().await;
    ctl.leave(vec![1]).await.unwrap();
    pause().await;
    ctl.move_shard(0, 2).await.unwrap();
    ctl.join(BTreeMap::from([(1, d.servers(1))])).await.unwrap();
    pause().await;
    let last = ctl.leave(vec![3]).await.unwrap();
    // The writers go on until every migration is over, still under loss.
    let settled = d.wait_config(&[1, 2], last, SETTLE).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in writers {
        all.push(w.await.unwrap());
    }
    if !settled {
        dump(&d);
    }
    assert!(
        settled,
        "groups 1 and 2 did not settle at config {last} under loss"
    );
    let acked: usize = all.iter().map(|a| a.ok.len()).sum();
    let count = |f: fn(&Appends) -> usize| all.iter().map(f).sum::<usize>();
    eprintln!(
        "appends under {LOSS} loss: {acked} ok, {} failed, {} unknown",
        count(|a| a.failed.len()),
        count(|a| a.unknown.len())
    );
    assert!(acked >= 10, "only {acked} appends acknowledged");
    heal_and_settle(&d, &[1, 2]).await;
    let mut c = d.client(opts(SETTLE));
    for k in 0..6 {
        let key = format!("k{k}");
        let value = read(&mut c, &key).await;
        check_value(&key, &value, &all);
    }
}

/// One shard group is cut off from everything (controller, other groups,
/// its own members): the other groups keep serving their shards, and a
/// shard can still move between them; the cut group's shards do not answer
/// until the heal, and then every append made anywhere is there once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_isolating_one_group_does_not_block_the_others() {
    let Some((d, _dir)) = start(3) else { return };
    let num = d.join(&[1, 2, 3]).await.unwrap();
    assert!(d.wait_config(&[1, 2, 3], num, SETTLE).await, "config {num}");
    let mut ctl = d.ctrler_client(opts(SETTLE));
    let config = ctl.query(-1).await.unwrap();
    let keys: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
    let owner = |key: &str| config.owner(key_to_shard(key, d.nshards()));
    assert!((1..=3).all(|g| keys.iter().any(|k| owner(k) == g)));
    let mut c = d.client(opts(Duration::from_secs(20)));
    for key in &keys {
        let r = c.execute(append(key, "a;")).await;
        assert!(matches!(r, Outcome::Ok { .. }), "{key}: {r:?}");
    }

    // Cut every member of group 3 from every other member, both ways.
    let names: Vec<String> = d.members().iter().map(Member::to_string).collect();
    let isolated: Vec<String> = d
        .members()
        .into_iter()
        .filter(|m| m.gid() == Some(3))
        .map(|m| m.to_string())
        .collect();
    let mut pairs = Vec::new();
    for a in &isolated {
        for b in names.iter().filter(|b| *b != a) {
            pairs.push((a.clone(), b.clone()));
            if !isolated.contains(b) {
                pairs.push((b.clone(), a.clone()));
            }
        }
    }
    let n = net(&d);
    assert_eq!(NetControl::cut(&*n, &pairs).unwrap(), pairs.len());

    // Appends to group 3's keys wait (in the background) for the heal.
    let ctrlers = d.ctrler_addresses();
    let blocked: Vec<String> = keys.iter().filter(|k| owner(k) == 3).cloned().collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let waiting = {
        let blocked = blocked.clone();
        tokio::spawn(async move {
            let mut c = ShardClient::new(7000, &ctrlers, opts(Duration::from_secs(120)));
            for key in blocked {
                let r = c.execute(append(&key, "b;")).await;
                let _ = tx.send((key, r));
            }
        })
    };
    // Groups 1 and 2 keep serving, and a shard of group 1 moves to group 2.
    for key in keys.iter().filter(|k| owner(k) != 3) {
        let r = c.execute(append(key, "b;")).await;
        assert!(matches!(r, Outcome::Ok { .. }), "{key}: {r:?}");
        assert_eq!(read(&mut c, key).await, "a;b;", "{key}");
    }
    let moved = keys.iter().find(|k| owner(k) == 1).unwrap().clone();
    let shard = key_to_shard(&moved, d.nshards());
    ctl.move_shard(shard, 2).await.unwrap();
    loop {
        match c.execute(append(&moved, "c;")).await {
            Outcome::Ok { node, .. } if node / 100 == 2 => break,
            Outcome::Ok { .. } => {} // appended at group 1 before it let go
            other => panic!("{moved}: {other:?}"),
        }
    }
    let moved_value = read(&mut c, &moved).await;
    assert!(moved_value.starts_with("a;b;c;"), "{moved}={moved_value}");
    let moved_cs = moved_value.matches("c;").count();
    // Nothing of group 3's shards was acknowledged while it was cut off.
    let mut outcomes = Vec::new();
    while let Ok((key, r)) = rx.try_recv() {
        assert!(
            !matches!(r, Outcome::Ok { .. }),
            "{key} acknowledged by the cut-off group"
        );
        outcomes.push((key, r));
    }

    heal_and_settle(&d, &[1, 2, 3]).await;
    waiting.await.unwrap();
    while let Some(o) = rx.recv().await {
        outcomes.push(o);
    }
    assert_eq!(outcomes.len(), blocked.len());
    let mut c = d.client(opts(SETTLE));
    for key in &keys {
        let value = read(&mut c, key).await;
        if *key == moved {
            assert_eq!(value, format!("a;b;{}", "c;".repeat(moved_cs)));
        } else if owner(key) == 3 {
            let (_, r) = outcomes.iter().find(|(k, _)| k == key).unwrap();
            match r {
                Outcome::Ok { .. } => assert_eq!(value, "a;b;", "{key}"),
                Outcome::Fail(_) => assert_eq!(value, "a;", "{key}"),
                Outcome::Indeterminate(_) => {
                    assert!(value == "a;" || value == "a;b;", "{key}={value}")
                }
            }
        } else {
            assert_eq!(value, "a;b;", "{key}");
        }
    }
}
