//! Partitions and packet loss cut real TCP between namespaces: a cut in
//! both directions stops connections between the two named nodes (and only
//! them), healing restores them and removes exactly the rules added; a
//! loss probability of 1 drops everything, a fractional one shows in the
//! rule listing.

mod netns_common;

use faultline_harness::Harness;
use faultline_workloads::NetControl;
use netns_common::{harness, rules_in, tcp_connects};

#[test]
fn partition_cuts_tcp_both_ways_and_heal_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(3, dir.path());
    let net = h.network();
    let addr = h.addresses();
    let ns = |id| net.node(id).unwrap().namespace.clone();
    // Wait until the nodes listen (startup), checking every pair once.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !(tcp_connects(&ns(1), &addr[&2]) && tcp_connects(&ns(2), &addr[&1])) {
        assert!(
            std::time::Instant::now() < until,
            "nodes never became reachable: {}",
            h.read_log(2)
        );
    }
    assert!(tcp_connects(&ns(1), &addr[&3]));
    let before = rules_in(&ns(2));

    let pairs = [
        ("1".to_string(), "2".to_string()),
        ("2".to_string(), "1".to_string()),
    ];
    assert_eq!(NetControl::cut(&*net, &pairs).unwrap(), 2);
    assert!(!tcp_connects(&ns(1), &addr[&2]), "1 -> 2 still connects");
    assert!(!tcp_connects(&ns(2), &addr[&1]), "2 -> 1 still connects");
    assert!(tcp_connects(&ns(1), &addr[&3]), "1 -> 3 was cut too");
    assert!(tcp_connects(&ns(3), &addr[&2]), "3 -> 2 was cut too");
    let during = rules_in(&ns(2));
    let ip1 = net.node(1).unwrap().ip.to_string();
    assert!(
        during.contains(&format!("-s {ip1}/32")) && during.contains("-j DROP"),
        "{during}"
    );

    assert_eq!(net.heal_cuts().unwrap(), 2);
    assert!(tcp_connects(&ns(1), &addr[&2]), "1 -> 2 not restored");
    assert!(tcp_connects(&ns(2), &addr[&1]), "2 -> 1 not restored");
    assert_eq!(rules_in(&ns(2)), before);
    assert!(net.rules().is_empty());
}

#[test]
fn packet_loss_drops_between_nodes_and_heals() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(2, dir.path());
    let net = h.network();
    let addr = h.addresses();
    let ns = |id| net.node(id).unwrap().namespace.clone();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !tcp_connects(&ns(1), &addr[&2]) {
        assert!(
            std::time::Instant::now() < until,
            "node 2 never became reachable"
        );
    }
    assert_eq!(net.set_loss(1.0).unwrap(), 2);
    assert!(
        !tcp_connects(&ns(1), &addr[&2]),
        "loss 1.0 let a connection through"
    );
    assert_eq!(
        NetControl::set_loss(&*net, 0.25).unwrap(),
        2,
        "replaces, not adds"
    );
    let listing = rules_in(&ns(2));
    assert!(
        listing.contains("--mode random --probability 0.25"),
        "{listing}"
    );
    assert_eq!(listing.matches("statistic").count(), 1, "{listing}");
    assert!(net.set_loss(1.5).is_err());
    assert_eq!(net.heal_loss().unwrap(), 2);
    assert!(!rules_in(&ns(2)).contains("statistic"));
    assert!(tcp_connects(&ns(1), &addr[&2]), "not restored after heal");
}

#[test]
fn any_harness_reports_its_mode_and_network() {
    let dir = tempfile::tempdir().unwrap();
    let h = faultline_harness::AnyHarness::Netns(harness(1, dir.path()));
    assert_eq!(h.mode(), "netns");
    let net = h.network().expect("a netns harness has a network");
    assert_eq!(h.node_ids(), vec![1]);
    assert!(h.addresses()[&1].starts_with(&net.node(1).unwrap().ip.to_string()));
}
