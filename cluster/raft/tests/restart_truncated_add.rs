//! A server that was added, voted for itself, and then had the "add" entry
//! truncated restarts: its persisted vote is for a server (itself) outside
//! the configuration its log now gives, which is legitimate state. The core
//! keeps the vote (no second vote in that term) and goes on as a follower.
//!
//! The scenario: voters 1..=3, node 4 joining. Leader 1 (term 1) adds 4,
//! reaching only 4. Cut off, 4 campaigns in term 2 under {1, ..., 4} and
//! votes for itself. Node 2 wins term 2 with 3, commits its no-op, then adds
//! 4 itself; replicating one entry per message, it first overwrites 4's
//! uncommitted "add 4" (term 1) with its no-op. Node 4 crashes there: its
//! disk holds term 2, a vote for 4, and a log with no configuration change.

mod common;

use std::collections::BTreeSet;

use common::Cluster;
use faultline_raft::{ConfChange, EntryKind, NodeId, Role};

fn side(ids: &[NodeId]) -> Option<BTreeSet<NodeId>> {
    Some(ids.iter().copied().collect())
}

#[test]
fn a_spare_whose_add_was_truncated_restarts_with_its_vote() {
    let mut c = Cluster::new(3, |cfg| {
        cfg.pre_vote = false;
        cfg.check_quorum = false;
        cfg.max_entries_per_msg = 1;
    });
    c.add_joining(4, 1);
    let mut out = c.elect(1);
    assert_eq!(c.node(1).role(), Role::Leader, "{out}");

    // Term 1: leader 1 adds 4; the change reaches 4 only.
    c.partition = side(&[1, 4]);
    c.node_mut(1)
        .propose_conf_change(ConfChange::AddVoter(4))
        .expect("leader 1 committed its no-op");
    out += &c.stabilize();
    assert_eq!(c.node(4).conf_state().voters, vec![1, 2, 3, 4], "{out}");

    // Term 2: 4, alone, votes for itself; 2 wins with 3.
    c.partition = side(&[4]);
    c.node_mut(4).campaign();
    out += &c.stabilize();
    assert_eq!((c.node(4).term(), c.node(4).vote()), (2, Some(4)), "{out}");
    c.partition = side(&[2, 3]);
    c.node_mut(2).campaign();
    out += &c.stabilize();
    assert_eq!(c.node(2).role(), Role::Leader, "{out}");
    assert_eq!(c.node(2).term(), 2, "{out}");
    assert_eq!(c.node(2).commit(), 2, "node 2's no-op committed\n{out}");

    // Node 2 adds 4 and replicates to it one entry at a time, until 4's
    // log holds node 2's no-op in place of "add 4" and no change at all.
    c.partition = side(&[2, 3, 4]);
    c.node_mut(2)
        .propose_conf_change(ConfChange::AddVoter(4))
        .expect("leader 2 committed its no-op");
    let truncated = |c: &Cluster| {
        let n = c.node(4);
        n.last_index() == 2
            && n.term_at(2) == Some(2)
            && n.log_entries()
                .iter()
                .all(|e| !matches!(e.kind, EntryKind::ConfChange(_)))
    };
    let mut steps = 0;
    while !truncated(&c) {
        steps += 1;
        assert!(steps < 50, "4's add was never truncated alone\n{out}");
        for id in [2, 3] {
            if c.node(id).has_ready() {
                c.handle_ready(id, &mut out);
            }
            c.deliver_to(id, &mut out);
        }
        c.deliver_to(4, &mut out);
        if c.node(4).has_ready() {
            c.handle_ready(4, &mut out);
        }
    }
    assert_eq!(c.node(4).conf_state().voters, vec![1, 2, 3], "{out}");
    assert_eq!((c.node(4).term(), c.node(4).vote()), (2, Some(4)), "{out}");

    // Node 4 crashes here and restarts from its disk: the vote for itself,
    // outside the configuration of its log, is kept.
    c.restart(4);
    assert_eq!(c.node(4).role(), Role::Follower);
    assert_eq!((c.node(4).term(), c.node(4).vote()), (2, Some(4)));
    assert_eq!(c.node(4).conf_state().voters, vec![1, 2, 3]);

    // It catches up with leader 2 and becomes a voter again.
    out += &c.stabilize();
    c.tick(2, 1);
    out += &c.stabilize();
    assert_eq!(c.node(4).conf_state().voters, vec![1, 2, 3, 4], "{out}");
    assert_eq!(c.node(4).commit(), c.node(2).commit(), "{out}");
    assert!(!out.contains("safety violation"), "{out}");
}
