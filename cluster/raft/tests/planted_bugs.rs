//! Each planted bug, in a crafted scenario where it does harm, run once with
//! the bug and once without: the correct core stays safe, the buggy one
//! breaks a Raft safety property.

mod common;

use std::collections::BTreeSet;

use common::Cluster;
use faultline_raft::{RaftBug, Role};

fn cluster(n: u64, bug: Option<RaftBug>) -> Cluster {
    Cluster::new(n, |cfg| {
        cfg.pre_vote = false;
        cfg.check_quorum = false;
        if let Some(b) = bug {
            cfg.bugs.insert(b);
        }
    })
}

fn side(ids: &[u64]) -> Option<BTreeSet<u64>> {
    Some(ids.iter().copied().collect())
}

/// Raft Figure 8 with five nodes; returns the cluster and the transcript.
fn figure8(bug: Option<RaftBug>) -> (Cluster, String) {
    let mut c = cluster(5, bug);
    let mut out = c.elect(1);
    // Term 1: node 1 writes x, reaching node 2 only.
    c.partition = side(&[1, 2]);
    c.node_mut(1).propose(b"x".to_vec()).unwrap();
    out += &c.stabilize();
    // Node 1 crashes (and comes back as a follower).
    c.restart(1);
    // Term 2: node 5 is elected by 3 and 4, writes y at the same index, and
    // is cut off before replicating it.
    c.node_mut(5).campaign();
    out += &c.stabilize();
    assert_eq!(c.node(5).role(), Role::Leader, "{out}");
    c.partition = side(&[5]);
    c.node_mut(5).propose(b"y".to_vec()).unwrap();
    out += &c.stabilize();
    c.restart(5);
    // Term 3: node 1 is elected by 2, 3, 4 (its last term 1 is as good as
    // theirs) and replicates x.
    c.node_mut(1).campaign();
    out += &c.stabilize();
    if c.node(1).role() != Role::Leader {
        c.node_mut(1).campaign();
        out += &c.stabilize();
    }
    out += &c.stabilize();
    // Node 1 is cut off; node 5 campaigns with its term-2 entry.
    c.partition = side(&[1]);
    for _ in 0..3 {
        if c.node(5).role() != Role::Leader {
            c.node_mut(5).campaign();
            out += &c.stabilize();
        }
    }
    (c, out)
}

#[test]
fn figure8_commits_an_old_term_entry_that_is_then_lost() {
    let (c, out) = figure8(Some(RaftBug::Figure8));
    // Node 1 committed x (term 1) in term 3 by counting replicas...
    assert_eq!(
        c.machines[&1].first().map(|(_, v)| v.as_str()),
        Some("x"),
        "{out}"
    );
    // ...yet node 5, whose log has y at that index, became leader: the
    // committed entry is not in the new leader's log (Leader Completeness).
    assert_eq!(c.node(5).role(), Role::Leader, "{out}");
    assert!(c.node(5).term() > 3, "{out}");
    let at = c.machines[&1][0].0;
    let e5 = &c.node(5).log_entries()[(at - 1) as usize];
    assert_eq!(e5.data, b"y".to_vec(), "{out}");
    // Followers that learned the commit refuse its entries and say why.
    assert!(out.contains("safety violation"), "{out}");

    // The correct core: node 5's Noop of term 2 is on a majority, so node 1
    // cannot win term 3 and x is never committed; everyone agrees.
    let (c, out) = figure8(None);
    assert!(!out.contains("safety violation"), "{out}");
    assert!(!c.machines[&1].iter().any(|(_, v)| v == "x"), "{out}");
    assert_applied_agree(&c, &out);
}

/// State machine safety: no two nodes applied different commands at one index.
fn assert_applied_agree(c: &Cluster, out: &str) {
    let mut seen = std::collections::BTreeMap::new();
    for (id, machine) in &c.machines {
        for (i, v) in machine {
            if let Some((other, w)) = seen.insert(*i, (*id, v.clone())) {
                assert_eq!(&w, v, "nodes {other} and {id} differ at {i}\n{out}");
            }
        }
    }
}

fn forget_vote(bug: Option<RaftBug>) -> (Cluster, String) {
    let mut c = cluster(3, bug);
    let mut out = String::new();
    // Node 1 is elected in term 1 by node 3 while node 2 hears nothing.
    c.partition = side(&[2]);
    c.node_mut(1).campaign();
    c.handle_ready(1, &mut out);
    c.deliver_to(3, &mut out);
    c.handle_ready(3, &mut out);
    c.deliver_to(1, &mut out);
    assert_eq!(c.node(1).role(), Role::Leader, "{out}");
    // Node 3 crashes (before the leader's first append reaches it) and
    // restarts; node 2 campaigns in term 1 too.
    c.queue.clear();
    c.restart(3);
    c.partition = side(&[1]);
    out += &c.elect(2);
    (c, out)
}

#[test]
fn forget_vote_lets_a_restarted_node_vote_twice_in_a_term() {
    let (c, out) = forget_vote(Some(RaftBug::ForgetVote));
    assert_eq!(c.node(1).role(), Role::Leader, "{out}");
    assert_eq!(c.node(2).role(), Role::Leader, "{out}");
    assert_eq!(
        c.node(1).term(),
        c.node(2).term(),
        "two leaders in one term\n{out}"
    );
    assert_eq!(
        c.disks[&3].hard_state.vote, None,
        "the vote never reached disk"
    );

    let (c, out) = forget_vote(None);
    assert_ne!(c.node(2).role(), Role::Leader, "correct core: {out}");
    assert_eq!(c.disks[&3].hard_state.vote, Some(1));
}

fn no_log_check(bug: Option<RaftBug>) -> (Cluster, String) {
    let mut c = cluster(3, bug);
    let mut out = c.elect(1);
    c.partition = side(&[3]);
    c.node_mut(1).propose(b"a".to_vec()).unwrap();
    out += &c.stabilize();
    c.partition = None;
    out += &c.elect(3);
    (c, out)
}

#[test]
fn no_log_check_elects_a_leader_missing_committed_entries() {
    let (c, out) = no_log_check(Some(RaftBug::NoLogCheck));
    assert!(c.machines[&1].iter().any(|(_, v)| v == "a"), "{out}");
    assert_eq!(c.node(3).role(), Role::Leader, "{out}");
    assert!(
        !c.node(3).log_entries().iter().any(|e| e.data == b"a"),
        "the new leader lacks the committed entry\n{out}"
    );
    assert!(out.contains("safety violation"), "{out}");

    let (c, out) = no_log_check(None);
    assert_ne!(c.node(3).role(), Role::Leader, "correct core: {out}");
    assert_applied_agree(&c, &out);
}

fn stale_read(bug: Option<RaftBug>) -> (Cluster, String) {
    let mut c = cluster(3, bug);
    let mut out = c.elect(1);
    // Node 1 is cut off but still believes it leads; 2 and 3 move on and
    // commit a new write.
    c.partition = side(&[1]);
    out += &c.elect(2);
    c.node_mut(2).propose(b"b".to_vec()).unwrap();
    out += &c.stabilize();
    // A read arrives at the deposed leader.
    c.node_mut(1).read_index(b"r".to_vec()).unwrap();
    out += &c.stabilize();
    (c, out)
}

#[test]
fn stale_read_index_answers_reads_from_a_deposed_leader() {
    let (c, out) = stale_read(Some(RaftBug::StaleReadIndex));
    let acknowledged = c.node(2).commit();
    let read = c
        .reads
        .iter()
        .find(|(_, ctx, _)| ctx == "r")
        .expect("answered");
    assert!(
        read.2 < acknowledged,
        "the read at {} misses the write committed at {acknowledged}\n{out}",
        read.2
    );

    let (c, out) = stale_read(None);
    assert!(c.reads.is_empty(), "correct core never answers: {out}");
}
