//! Basic operations against real 3- and 5-node kvnode groups, the status
//! JSON, and followers redirecting to the leader.

mod kv_common;

use std::time::Duration;

use faultline_harness::Harness;
use faultline_kvnode::kv::Reply;
use kv_common::*;

async fn basic_ops(nodes: usize) {
    let g = start(nodes, &[], &[]);
    let leader = g.leader().await;
    let mut c = g.client();
    assert_eq!(read(&mut c, "a").await, None);
    assert_eq!(ok(&mut c, put("a", "1")).await, Reply::Done);
    assert_eq!(read(&mut c, "a").await.as_deref(), Some("1"));
    ok(&mut c, append("a", "2")).await;
    ok(&mut c, append("fresh", "x")).await;
    assert_eq!(read(&mut c, "a").await.as_deref(), Some("12"));
    assert_eq!(read(&mut c, "fresh").await.as_deref(), Some("x"));
    // A failed compare is an ok with applied = false and the current value.
    assert_eq!(
        ok(&mut c, cas("a", Some("1"), "z")).await,
        Reply::Cas {
            applied: false,
            current: Some("12".into())
        }
    );
    assert_eq!(
        ok(&mut c, cas("a", Some("12"), "z")).await,
        Reply::Cas {
            applied: true,
            current: Some("z".into())
        }
    );
    assert_eq!(
        ok(&mut c, cas("none", None, "n")).await,
        Reply::Cas {
            applied: true,
            current: Some("n".into())
        }
    );
    assert_eq!(c.leader(), Some(leader));

    // Every node reports the status fields; all agree on the leader and term.
    // The status is refreshed after each loop round, just after replies go out.
    assert!(wait_applied(&g, leader, 7, Duration::from_secs(5)).await);
    let s = g.h.status(leader, Duration::from_secs(1)).await.unwrap();
    assert_eq!(
        (s.id, s.role.as_str(), s.leader),
        (leader, "leader", Some(leader))
    );
    assert!(
        s.commit >= 7 && s.applied >= 7 && s.last_log_index >= s.commit,
        "{s:?}"
    );
    assert_eq!((s.config_num, s.shards.len()), (0, 0));
    assert!(s.wall_clock_ms > 1_600_000_000_000);
    for id in g.h.node_ids() {
        let t = g.h.status(id, Duration::from_secs(1)).await.unwrap();
        assert_eq!(t.term, s.term);
        assert_eq!(t.leader, Some(leader), "node {id}: {t:?}");
    }
    // A client that first asks a follower is redirected by the hint.
    let follower = g.h.node_ids().into_iter().find(|&id| id != leader).unwrap();
    let addrs = g.h.addresses();
    let only_follower_first = [follower]
        .into_iter()
        .chain(addrs.keys().copied().filter(|&id| id != follower))
        .map(|id| (id, addrs[&id].clone()))
        .collect();
    let mut c2 =
        faultline_kvnode::client::KvClient::new(7, &only_follower_first, Default::default());
    assert_eq!(read(&mut c2, "a").await.as_deref(), Some("z"));
    assert_eq!(c2.leader(), Some(leader));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_node_group_serves_basic_operations() {
    basic_ops(3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_node_group_serves_basic_operations() {
    basic_ops(5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kvnode_logs_carry_node_role_and_term_and_exit_cleanly_on_sigterm() {
    let mut g = start(3, &[], &[]);
    let leader = g.leader().await;
    g.h.stop_all().unwrap();
    let log = g.h.read_log(leader);
    assert!(
        log.contains(&format!("node={leader} role=leader term=")),
        "{log}"
    );
    assert!(
        log.contains("SIGTERM: stopping") && log.contains("stopped"),
        "{log}"
    );
}
