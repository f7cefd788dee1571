//! Membership changes of a group of real kvnode processes: a fresh 4th
//! member (empty data directory, `--join`) is added through the admin RPC,
//! catches up by snapshot (the log is compacted), and counts in the
//! quorum; a removed member refuses clients with "not a member" and does
//! not disturb the group; removing the leader hands leadership on.

mod kv_common;

use std::collections::BTreeMap;
use std::time::Duration;

use faultline_harness::Harness;
use faultline_kvnode::client::{ClientOptions, KvClient, Outcome, fresh_client_id};
use kv_common::*;

const CHANGE: Duration = Duration::from_secs(10);

/// A client of node `id` only, with a short deadline.
fn client_of(g: &Group, id: u64) -> KvClient {
    let addr = g.h.addresses()[&id].clone();
    KvClient::new(
        fresh_client_id(),
        &BTreeMap::from([(id, addr)]),
        ClientOptions {
            op_deadline: Duration::from_millis(500),
            ..ClientOptions::default()
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_member_catches_up_by_snapshot_and_votes_a_removed_one_refuses() {
    let mut g = start(3, &["--snapshot-entries", "20"], &[]);
    let leader = g.leader().await;
    let mut c = g.client();
    for i in 0..60 {
        ok(&mut c, put(&format!("k{i}"), &format!("v{i}"))).await;
    }
    let new = g.h.start_new_member().unwrap();
    assert_eq!(new, 4);
    assert!(g.h.data_dir(new).is_dir() || !g.h.data_dir(new).exists());
    let done = g.h.add_member(new, CHANGE).await.unwrap();
    assert_eq!(done.conf.voters, vec![1, 2, 3, 4]);
    let commit =
        g.h.status(leader, Duration::from_secs(1))
            .await
            .unwrap()
            .commit;
    assert!(
        wait_applied(&g, new, commit, Duration::from_secs(10)).await,
        "node 4 did not catch up"
    );
    let s4 = g.h.status(new, Duration::from_secs(1)).await.unwrap();
    assert!(
        s4.snapshot_index > 0,
        "node 4 caught up without a snapshot: {s4:?}"
    );
    assert_eq!(s4.voters, vec![1, 2, 3, 4]);

    // Remove an original follower; then kill another original: of the
    // voters left, only a quorum with node 4 can commit.
    let removed = [1, 2, 3].into_iter().find(|&n| n != leader).unwrap();
    let done = g.h.remove_member(removed, CHANGE).await.unwrap();
    assert!(!done.conf.voters.contains(&removed));
    let killed = [1, 2, 3]
        .into_iter()
        .find(|&n| n != leader && n != removed)
        .unwrap();
    g.h.kill(killed).unwrap();
    c.add_node(new, &g.h.addresses()[&new]);
    ok(&mut c, put("after", "x")).await;
    for i in 0..60 {
        assert_eq!(read(&mut c, &format!("k{i}")).await, Some(format!("v{i}")));
    }

    // The removed node refuses clients, and does not campaign.
    let mut only_removed = client_of(&g, removed);
    match only_removed.execute(get("k1")).await {
        Outcome::Fail(why) => assert!(why.contains("not a member"), "{why}"),
        other => panic!("a removed member answered: {other:?}"),
    }
    let term =
        g.h.status(leader, Duration::from_secs(1))
            .await
            .unwrap()
            .term;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let s = g.h.status(removed, Duration::from_secs(1)).await.unwrap();
    assert_eq!(s.role, "follower");
    assert!(s.term <= term, "the removed node campaigned: {s:?}");
    assert_eq!(
        g.h.status(leader, Duration::from_secs(1))
            .await
            .unwrap()
            .term,
        term
    );
    // Node 4 holds the data: with the leader killed too, it still has it
    // (read it back from node 4's own state after restarting the killed one).
    g.h.restart(killed).unwrap();
    let mut via_new = client_of(&g, new);
    via_new.add_node(killed, &g.h.addresses()[&killed]);
    via_new.add_node(leader, &g.h.addresses()[&leader]);
    assert_eq!(read(&mut via_new, "k59").await, Some("v59".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_leader_hands_leadership_on_and_the_group_serves() {
    let g = start(3, &[], &[]);
    let leader = g.leader().await;
    let mut c = g.client();
    ok(&mut c, put("a", "1")).await;
    let done = g.h.remove_member(leader, CHANGE).await.unwrap();
    assert_eq!(done.conf.voters.len(), 2);
    let mut next = leader;
    for _ in 0..100 {
        next = g.leader().await;
        if next != leader {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_ne!(next, leader, "the removed leader kept leading");
    ok(&mut c, put("a", "2")).await;
    assert_eq!(read(&mut c, "a").await, Some("2".into()));
    // Asking again is idempotent.
    let again = g.h.remove_member(leader, CHANGE).await.unwrap();
    assert_eq!(again.conf.voters, done.conf.voters);
}
