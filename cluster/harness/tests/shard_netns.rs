//! A sharded deployment in network namespaces: the controller group and
//! every shard group on one network (one run id, one bridge, one /24),
//! members named `c<id>` / `g<gid>n<id>` in its `NetControl`; a clock
//! offset or a cut aimed at a member name reaches exactly that member's
//! process or namespace; groups migrate shards across the shared bridge;
//! and nothing of the run is left after a drop, a panic, or a SIGKILLed
//! owner followed by `cleanup_leftovers` (`faultline clean`).
//!
//! Needs root, iproute2 (`ip`), iptables, bash, coreutils `timeout` and
//! libfaketime; skipped with a message saying so when any is missing.

mod netns_common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use faultline_harness::Harness;
use faultline_harness::deployment::{Member, ShardedDeployment, ShardedOptions};
use faultline_harness::netns::faketime::find_libfaketime;
use faultline_harness::netns::preflight;
use faultline_workloads::NetControl;
use netns_common::{
    NEEDS, assert_a_drop_removes_everything, assert_a_panic_removes_everything, rules_in,
    tcp_connects,
};

fn can_run() -> bool {
    match preflight().and_then(|_| find_libfaketime().map(drop)) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("{NEEDS}; skipping: {e}");
            false
        }
    }
}

fn start(groups: usize, dir: &std::path::Path) -> ShardedDeployment {
    let mut opts = ShardedOptions::new(groups, dir);
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    opts.netns = true;
    ShardedDeployment::start(opts).unwrap_or_else(|e| panic!("{NEEDS}: {e}"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_member_is_addressable_by_name_on_one_shared_network() {
    if !can_run() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = start(2, dir.path());
    let net = d.network().expect("a namespace network");
    assert_eq!(d.mode(), "netns");
    let members = d.members();
    let names: Vec<String> = members.iter().map(Member::to_string).collect();
    assert_eq!(
        names,
        [
            "c1", "c2", "c3", "g1n1", "g1n2", "g1n3", "g2n1", "g2n2", "g2n3"
        ]
    );
    // One namespace and one address per member, all on the run's /24.
    let mut namespaces = BTreeSet::new();
    for m in &members {
        let node = net.node_named(&m.to_string()).unwrap();
        assert!(namespaces.insert(node.namespace.clone()), "{m}");
        assert!(
            node.namespace.starts_with(&format!("fl-{}-", net.run_id())),
            "{}",
            node.namespace
        );
        let addr = d.harness_of(*m).unwrap().addresses()[&m.id()].clone();
        assert_eq!(
            addr,
            format!("{}:{}", node.ip, faultline_harness::NODE_PORT)
        );
        assert_eq!(
            node.ip.octets()[..3],
            net.plan().subnet().octets()[..3],
            "{m}"
        );
    }
    assert!(net.node_named("1").is_err(), "bare ids are not names here");

    // A distinct clock offset per member shows in exactly that member's status.
    let offset = |i: usize| (i as i64 + 1) * 300_000;
    for (i, name) in names.iter().enumerate() {
        NetControl::set_clock(&*net, name, offset(i)).unwrap();
    }
    for (i, m) in members.iter().enumerate() {
        let h = d.harness_of(*m).unwrap();
        // Members may still be starting: ask until one answers.
        let until = Instant::now() + Duration::from_secs(15);
        let skew = loop {
            let before = now_ms();
            match h.status(m.id(), Duration::from_secs(2)).await {
                Ok(s) => break s.wall_clock_ms as i64 - (before + now_ms()) / 2,
                Err(e) if Instant::now() > until => {
                    panic!("status of {m}: {e}\n{}", h.read_log(m.id()))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        assert!(
            (skew - offset(i)).abs() < 100_000,
            "{m}: skew {skew} ms, set {} ms",
            offset(i)
        );
    }
    net.reset_clocks().unwrap();

    // A cut from a shard member to a controller is a rule in the
    // controller's namespace, and really stops TCP from that member only.
    let (g1n1, c1) = (
        net.node_named("g1n1").unwrap(),
        net.node_named("c1").unwrap(),
    );
    let c1_addr = d.ctrler_addresses()[&1].clone();
    let until = Instant::now() + Duration::from_secs(10);
    while !tcp_connects(&g1n1.namespace, &c1_addr) {
        assert!(Instant::now() < until, "c1 never became reachable");
    }
    NetControl::cut(&*net, &[("g1n1".into(), "c1".into())]).unwrap();
    assert!(rules_in(&c1.namespace).contains(&format!("-s {}/32", g1n1.ip)));
    assert!(
        !tcp_connects(&g1n1.namespace, &c1_addr),
        "g1n1 -> c1 still connects"
    );
    let g2n1 = net.node_named("g2n1").unwrap();
    assert!(
        tcp_connects(&g2n1.namespace, &c1_addr),
        "g2n1 -> c1 was cut too"
    );
    assert_eq!(net.heal_cuts().unwrap(), 1);
    assert!(
        tcp_connects(&g1n1.namespace, &c1_addr),
        "g1n1 -> c1 not restored"
    );

    // Groups reach the controller and each other: both join, shards migrate.
    let num = d.join(&[1, 2]).await.unwrap();
    assert!(
        d.wait_config(&[1, 2], num, Duration::from_secs(30)).await,
        "groups did not settle at config {num}"
    );
}

#[test]
fn loopback_deployment_has_the_same_members_and_no_network() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ShardedOptions::new(1, dir.path());
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    let mut d = ShardedDeployment::start(opts).unwrap();
    assert_eq!((d.mode(), d.network().is_none()), ("loopback", true));
    let members = d.members();
    assert_eq!(members.len(), 6);
    let m: Member = "g1n2".parse().unwrap();
    assert!(members.contains(&m));
    let h = d.harness_of_mut(m).unwrap();
    assert!(h.pid(2).is_some());
    h.kill(2).unwrap();
    assert!(h.pid(2).is_none());
    assert!(d.harness_of(Member::Shard(9, 1)).is_none());
}

/// A deployment with a cut, packet loss and clock offsets in force.
fn busy_run(dir: &std::path::Path) -> ShardedDeployment {
    let d = start(2, dir);
    let net = d.network().unwrap();
    NetControl::cut(&*net, &[("g1n1".into(), "g2n1".into())]).unwrap();
    net.set_loss_including_host(0.2).unwrap();
    NetControl::set_clock(&*net, "c2", 5_000).unwrap();
    NetControl::strobe_clock(
        &*net,
        "g2n3",
        (0, 100),
        Duration::from_millis(10),
        Duration::from_secs(60),
    )
    .unwrap();
    d
}

#[test]
fn drop_and_panic_remove_everything() {
    if !can_run() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = busy_run(&dir.path().join("drop"));
    let run = d.network().unwrap().run_id().clone();
    assert_a_drop_removes_everything(d, &run);
    assert_a_panic_removes_everything(|| {
        let d = busy_run(&dir.path().join("panic"));
        let run = d.network().unwrap().run_id().clone();
        (d, run)
    });
}

/// Run by [`sigkilled_owner_is_cleaned_by_cleanup_leftovers`] in a child
/// process: start a busy deployment, write its run id, wait to be killed.
#[test]
#[ignore = "helper: started as a child process by another test"]
fn child_deployment_until_killed() {
    let dir = netns_common::owner_dir();
    let d = busy_run(&dir.join("run"));
    netns_common::publish_run_and_wait(&dir, d.network().unwrap().run_id());
    drop(d);
}

#[test]
fn sigkilled_owner_is_cleaned_by_cleanup_leftovers() {
    if !can_run() {
        return;
    }
    netns_common::assert_cleanup_after_sigkilled_owner("child_deployment_until_killed");
}
