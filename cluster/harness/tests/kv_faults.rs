//! Crashes of real kvnode processes: the leader killed (SIGKILL) in 3- and
//! 5-node groups, every node killed and restarted from its WAL and snapshot,
//! and a node that was down catching up by InstallSnapshot.

mod kv_common;

use std::time::Duration;

use faultline_harness::Harness;
use kv_common::*;

async fn leader_killed_new_leader_serves(nodes: usize) {
    let mut g = start(nodes, &[], &[]);
    let old = g.leader().await;
    let mut c = g.client();
    for i in 0..20 {
        ok(&mut c, put(&format!("k{i}"), &format!("v{i}"))).await;
        ok(&mut c, append("log", &format!("{i},"))).await;
    }
    g.h.kill(old).unwrap();
    let new = g.leader().await;
    assert_ne!(new, old, "a killed node cannot lead");
    // No acknowledged write is lost, and the new leader takes writes.
    for i in 0..20 {
        assert_eq!(read(&mut c, &format!("k{i}")).await, Some(format!("v{i}")));
    }
    let expected: String = (0..20).map(|i| format!("{i},")).collect();
    assert_eq!(read(&mut c, "log").await, Some(expected.clone()));
    ok(&mut c, append("log", "after,")).await;
    assert_eq!(c.leader(), Some(new));
    // The old leader comes back as a follower and catches up.
    g.h.restart(old).unwrap();
    let commit =
        g.h.status(new, Duration::from_secs(1))
            .await
            .unwrap()
            .commit;
    assert!(wait_applied(&g, old, commit, Duration::from_secs(10)).await);
    assert_eq!(read(&mut c, "log").await, Some(format!("{expected}after,")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_leader_killed_new_leader_serves_no_write_lost() {
    leader_killed_new_leader_serves(3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_survive_two_crashes_including_the_leader() {
    let mut g = start(5, &[], &[]);
    let first = g.leader().await;
    let mut c = g.client();
    ok(&mut c, put("a", "1")).await;
    g.h.kill(first).unwrap();
    let second = g.leader().await;
    ok(&mut c, append("a", "2")).await;
    g.h.kill(second).unwrap();
    g.leader().await;
    ok(&mut c, append("a", "3")).await;
    assert_eq!(read(&mut c, "a").await.as_deref(), Some("123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_nodes_killed_and_restarted_keep_their_state() {
    // A small snapshot threshold, so the state lives in snapshots and WAL.
    let mut g = start(3, &["--snapshot-entries", "25"], &[]);
    g.leader().await;
    let mut c = g.client();
    for i in 0..60 {
        ok(&mut c, put(&format!("k{}", i % 10), &format!("v{i}"))).await;
        ok(&mut c, append("all", "x")).await;
    }
    let ids = g.h.node_ids();
    for &id in &ids {
        g.h.kill(id).unwrap();
    }
    for &id in &ids {
        let snap = std::fs::metadata(g.h.data_dir(id).join("snapshot"));
        assert!(snap.is_ok(), "node {id} should have written a snapshot");
        g.h.restart(id).unwrap();
    }
    g.leader().await;
    let mut c = g.client();
    for k in 0..10 {
        assert_eq!(
            read(&mut c, &format!("k{k}")).await,
            Some(format!("v{}", 50 + k))
        );
    }
    assert_eq!(read(&mut c, "all").await, Some("x".repeat(60)));
    // Sessions survived too: the old client's next write still works.
    ok(&mut c, append("all", "y")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_was_down_catches_up_by_install_snapshot() {
    let mut g = start(3, &["--snapshot-entries", "20"], &[]);
    let leader = g.leader().await;
    let lagging = g.h.node_ids().into_iter().find(|&id| id != leader).unwrap();
    g.h.kill(lagging).unwrap();
    let mut c = g.client();
    for i in 0..80 {
        ok(&mut c, put(&format!("k{i}"), "v")).await;
    }
    let s =
        g.h.status(c.leader().unwrap(), Duration::from_secs(1))
            .await
            .unwrap();
    assert!(
        s.snapshot_index >= 20,
        "the leader compacted its log: {s:?}"
    );
    g.h.restart(lagging).unwrap();
    assert!(wait_applied(&g, lagging, s.commit, Duration::from_secs(10)).await);
    let log = g.h.read_log(lagging);
    assert!(log.contains("installed snapshot"), "{log}");
    // And it serves the caught-up state once it leads.
    let t = g.h.status(lagging, Duration::from_secs(1)).await.unwrap();
    assert!(t.snapshot_index >= 20, "{t:?}");
}
