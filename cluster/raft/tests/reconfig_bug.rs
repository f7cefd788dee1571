//! The single-server membership change bug (Ongaro, raft-dev, 2015) and the
//! planted bug `reconfig-no-noop` that brings it back: a new leader that
//! proposes a change before committing an entry of its own term can commit
//! a configuration that overlaps no majority of an earlier leader's
//! uncommitted one, and two servers then commit different entries at the
//! same index. The correct core refuses the early change.
//!
//! The scenario: voters 1..=4; leader 1 (term 1) adds 5, reaching only 5.
//! Node 2 is elected in term 2 by 2, 3, 4 and at once removes 1, reaching
//! only 3: under {2, 3, 4} that commits. Node 1 then wins term 3 under
//! {1, ..., 5} with 4 and 5 (4 never saw a term-2 entry) and commits its
//! log, whose index 2 holds "add 5" where 2 and 3 committed their no-op.

mod common;

use std::collections::BTreeSet;

use common::Cluster;
use faultline_raft::{
    ConfChange, ConfChangeError, NodeId, RaftBug, RaftError, Role, testkit::Formatter,
};

fn side(ids: &[NodeId]) -> Option<BTreeSet<NodeId>> {
    Some(ids.iter().copied().collect())
}

/// Runs the scenario; returns the cluster, the transcript and what node 2's
/// early change got.
fn scenario(bug: bool) -> (Cluster, String, Result<u64, RaftError>) {
    let mut c = Cluster::new(4, |cfg| {
        cfg.pre_vote = false;
        cfg.check_quorum = false;
        if bug {
            cfg.bugs.insert(RaftBug::ReconfigNoNoop);
        }
    });
    c.add_joining(5, 1);
    let mut out = c.elect(1);
    assert_eq!(c.node(1).role(), Role::Leader, "{out}");

    // Term 1: leader 1 adds 5; the change reaches 5 only.
    c.partition = side(&[1, 5]);
    c.node_mut(1)
        .propose_conf_change(ConfChange::AddVoter(5))
        .expect("leader 1 committed its no-op");
    out += &c.stabilize();
    assert_eq!(c.node(5).conf_state().voters, vec![1, 2, 3, 4, 5], "{out}");
    assert_eq!(c.node(1).commit(), 1, "the change is not committed\n{out}");

    // Term 2: node 2 is elected by 2, 3, 4; node 4 votes, then hears nothing.
    c.partition = side(&[2, 3, 4]);
    c.node_mut(2).campaign();
    c.handle_ready(2, &mut out);
    c.deliver_to(3, &mut out);
    c.deliver_to(4, &mut out);
    c.handle_ready(3, &mut out);
    c.handle_ready(4, &mut out);
    c.deliver_to(2, &mut out);
    assert_eq!(c.node(2).role(), Role::Leader, "{out}");
    assert_eq!(c.node(2).term(), 2);
    // At once (its no-op is not committed), node 2 removes node 1.
    let early = c.node_mut(2).propose_conf_change(ConfChange::Remove(1));
    c.partition = side(&[2, 3]);
    out += &c.stabilize();

    // Term 3: node 1 restarts (leaving term 1's leadership) and campaigns
    // under {1, ..., 5}: 5 and 4 vote for it (4's log is as old as ever).
    c.partition = side(&[1, 4, 5]);
    c.restart(1);
    for _ in 0..4 {
        if c.node(1).role() != Role::Leader {
            c.node_mut(1).campaign();
            out += &c.stabilize();
        }
    }
    assert_eq!(c.node(1).role(), Role::Leader, "{out}");

    // Everyone meets again.
    c.partition = None;
    for _ in 0..3 {
        c.tick(1, 1);
        out += &c.stabilize();
    }
    (c, out, early)
}

/// Pairs of nodes that committed different entries at one index (same
/// index and term mean the same entry, by Log Matching).
fn committed_conflicts(c: &Cluster) -> Vec<(NodeId, NodeId, u64)> {
    let mut found = Vec::new();
    let ids: Vec<NodeId> = c.nodes.keys().copied().collect();
    for (k, &a) in ids.iter().enumerate() {
        for &b in &ids[k + 1..] {
            let (na, nb) = (c.node(a), c.node(b));
            let upto = na.commit().min(nb.commit());
            let from = na.first_index().max(nb.first_index());
            for i in from..=upto {
                if na.term_at(i) != nb.term_at(i) {
                    found.push((a, b, i));
                    break;
                }
            }
        }
    }
    found
}

fn entry_at(c: &Cluster, id: NodeId, index: u64) -> String {
    let n = c.node(id);
    let e = &n.log_entries()[(index - n.first_index()) as usize];
    Formatter::text().entry(e)
}

#[test]
fn reconfig_no_noop_commits_two_entries_at_one_index() {
    let (c, out, early) = scenario(true);
    assert_eq!(early, Ok(3), "the buggy leader accepts the early change");
    // Nodes 2 and 3 committed node 2's no-op and its removal of 1...
    assert!(c.node(2).commit() >= 3, "{out}");
    assert_eq!(entry_at(&c, 2, 2), "(2,noop)");
    assert_eq!(entry_at(&c, 2, 3), "(2,conf:remove 1)");
    // ...and node 1 led term 3 and committed "add 5" at index 2.
    assert!(c.node(1).term() >= 3, "{out}");
    assert!(c.node(1).commit() >= 3, "{out}");
    assert_eq!(entry_at(&c, 1, 2), "(1,conf:add-voter 5)");
    let conflicts = committed_conflicts(&c);
    assert!(
        conflicts.contains(&(1, 2, 2)),
        "State Machine Safety: nodes 1 and 2 committed different entries at 2: {conflicts:?}\n{out}"
    );
    // Node 2, told by the term-3 leader to overwrite what it committed,
    // refuses and reports it.
    assert!(out.contains("safety violation"), "{out}");
}

#[test]
fn the_correct_core_refuses_the_early_change_and_stays_safe() {
    let (c, out, early) = scenario(false);
    assert_eq!(
        early,
        Err(RaftError::ConfChange(ConfChangeError::NoCommitInTerm)),
        "{out}"
    );
    assert_eq!(committed_conflicts(&c), vec![], "{out}");
    assert!(!out.contains("safety violation"), "{out}");
    // Node 1's term-3 leadership is legitimate: it commits "add 5" and
    // brings everyone, 2 and 3 included, to the same configuration.
    assert_eq!(c.node(1).role(), Role::Leader, "{out}");
    for id in 1..=5 {
        assert_eq!(
            c.node(id).conf_state().voters,
            vec![1, 2, 3, 4, 5],
            "node {id}\n{out}"
        );
        assert_eq!(c.node(id).commit(), c.node(1).commit(), "node {id}\n{out}");
    }
}

#[test]
fn a_truncated_change_is_undone() {
    // Same start without the bug: node 2's no-op of term 2 reaches 3 and 4
    // and commits, so node 1's uncommitted "add 5" is overwritten on node
    // 1, which goes back to the configuration without 5. (Node 5 is no
    // member for the new leader, which never contacts it.)
    let mut c = Cluster::new(4, |cfg| {
        cfg.pre_vote = false;
        cfg.check_quorum = false;
    });
    c.add_joining(5, 1);
    let mut out = c.elect(1);
    c.partition = side(&[1, 5]);
    c.node_mut(1)
        .propose_conf_change(ConfChange::AddVoter(5))
        .unwrap();
    out += &c.stabilize();
    assert_eq!(c.node(5).conf_state().voters, vec![1, 2, 3, 4, 5]);
    c.partition = side(&[2, 3, 4]);
    out += &c.elect(2);
    c.node_mut(2).propose(b"x".to_vec()).unwrap();
    out += &c.stabilize();
    c.restart(1);
    c.partition = None;
    for _ in 0..3 {
        c.tick(2, 1);
        out += &c.stabilize();
    }
    assert_eq!(c.node(1).conf_state().voters, vec![1, 2, 3, 4], "{out}");
    assert_eq!(entry_at(&c, 1, 2), "(2,noop)", "{out}");
    assert_eq!(c.node(1).commit(), c.node(2).commit(), "{out}");
    assert_eq!(committed_conflicts(&c), vec![], "{out}");
}
