//! Quick end-to-end checks of the core through the in-memory cluster.

mod common;

use common::Cluster;
use faultline_raft::Role;

#[test]
fn three_nodes_elect_and_replicate() {
    let mut c = Cluster::new(3, |_| {});
    let out = c.elect(1);
    assert_eq!(c.node(1).role(), Role::Leader, "{out}");
    for v in ["a", "b", "c"] {
        c.node_mut(1).propose(v.as_bytes().to_vec()).unwrap();
    }
    let out = c.stabilize();
    for id in 1..=3 {
        assert_eq!(
            c.machines[&id],
            vec![(2, "a".to_string()), (3, "b".into()), (4, "c".into())],
            "node {id}\n{out}"
        );
        assert_eq!(c.node(id).commit(), 4);
    }
}

#[test]
fn single_node_commits_after_persisting() {
    let mut c = Cluster::new(1, |_| {});
    c.elect(1);
    c.node_mut(1).propose(b"x".to_vec()).unwrap();
    c.stabilize();
    assert_eq!(c.machines[&1], vec![(2, "x".to_string())]);
}
