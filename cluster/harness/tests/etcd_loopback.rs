//! etcd members as processes on loopback: a 3-member cluster elects a
//! leader, serves put/get/cas through the JSON gateway, keeps serving with
//! its leader killed, takes the member back on its data, and leaves no
//! process behind. Skipped (with a note) when etcd is not installed.

mod etcd_common;

use std::time::Duration;

use etcd_common::{clients, eventually};
use faultline_harness::etcd::{CallError, EtcdCluster, EtcdOptions, find_etcd};

fn alive(pid: u32) -> bool {
    // Zombies are reaped by the cluster; a live pid has a /proc entry.
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn three_members_serve_survive_a_killed_leader_and_stop() {
    if find_etcd().is_err() {
        eprintln!("etcd not installed (scripts/setup.sh installs etcd-server); skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = EtcdCluster::start(EtcdOptions::new(3, dir.path())).unwrap();
    let leader = cluster.wait_for_leader(Duration::from_secs(20)).unwrap();
    let clients = clients(&cluster, Duration::from_secs(3));
    assert_eq!(clients.len(), 3);

    // put / get / cas through different members.
    eventually(Duration::from_secs(10), || clients[0].put("k", "1"));
    assert_eq!(clients[1].get("k", false).unwrap().as_deref(), Some("1"));
    assert_eq!(clients[2].get("missing", false).unwrap(), None);
    assert!(
        !clients[2].cas("k", Some("2"), "3").unwrap(),
        "cas on a wrong value applied"
    );
    assert!(clients[2].cas("k", Some("1"), "2").unwrap());
    assert!(clients[0].cas("fresh", None, "a").unwrap());
    assert!(!clients[0].cas("fresh", None, "b").unwrap());
    assert_eq!(clients[0].get("k", false).unwrap().as_deref(), Some("2"));
    assert_eq!(clients[0].get("fresh", true).unwrap().as_deref(), Some("a"));

    // append: absent keys start empty; appends from several members, some
    // racing on one key, each apply exactly once.
    assert!(clients[0].append("list", "x,", 8).unwrap());
    assert!(clients[1].append("list", "y,", 8).unwrap());
    assert_eq!(
        clients[2].get("list", false).unwrap().as_deref(),
        Some("x,y,")
    );
    let racers: Vec<_> = (0..6)
        .map(|i| {
            let c = clients[i % 3].clone();
            std::thread::spawn(move || c.append("race", &format!("{i},"), 64).unwrap())
        })
        .collect();
    assert!(racers.into_iter().all(|t| t.join().unwrap()));
    let race = clients[0].get("race", false).unwrap().unwrap();
    let mut parts: Vec<&str> = race.split_terminator(',').collect();
    parts.sort();
    assert_eq!(parts, ["0", "1", "2", "3", "4", "5"], "{race}");

    // The leader's status names it; kill it and the others go on.
    let (_, named) = cluster.status(&leader).unwrap();
    assert_eq!(named.as_deref(), Some(leader.as_str()));
    let pids = cluster.pids();
    cluster.kill(&leader).unwrap();
    assert!(!cluster.is_running(&leader));
    let li: usize = leader.parse::<usize>().unwrap() - 1;
    let other = &clients[(li + 1) % 3];
    match clients[li].get("k", false) {
        Err(CallError::NotSent(_)) => {}
        r => panic!("a killed member answered or the refusal was not recognised: {r:?}"),
    }
    eventually(Duration::from_secs(15), || other.put("k", "after-kill"));
    let new_leader = cluster.wait_for_leader(Duration::from_secs(15)).unwrap();
    assert_ne!(new_leader, leader);

    // Back on its data: it catches up and serves linearizable reads.
    cluster.restart(&leader).unwrap();
    let v = eventually(Duration::from_secs(15), || clients[li].get("k", false));
    assert_eq!(v.as_deref(), Some("after-kill"));
    assert_eq!(
        clients[li].get("fresh", false).unwrap().as_deref(),
        Some("a")
    );

    // Pause: a paused member does not answer within the timeout.
    let paused = new_leader.clone();
    cluster.pause(&paused).unwrap();
    assert!(cluster.status(&paused).is_err());
    cluster.resume(&paused).unwrap();
    eventually(Duration::from_secs(10), || {
        cluster
            .status(&paused)
            .map_err(|e| CallError::Unknown(e.to_string()))
    });

    let all: Vec<u32> = pids
        .iter()
        .chain(cluster.pids().iter())
        .map(|(_, p)| *p)
        .collect();
    cluster.stop_all();
    drop(cluster);
    for pid in all {
        assert!(!alive(pid), "etcd pid {pid} outlived the cluster");
    }
    let log = std::fs::read_to_string(dir.path().join("nodes/1/node.log")).unwrap();
    assert!(!log.is_empty(), "member 1 wrote no log");
}
