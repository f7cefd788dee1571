//! MIT 6.5840 Raft lab, part 3A (leader election), on the simulator.

use faultline_sim::cluster::ELECTION_TIMEOUT;
use faultline_sim::{Cluster, SimError};

#[test]
fn initial_election() -> Result<(), SimError> {
    let mut cfg = Cluster::new(3, 1)?;
    cfg.check_one_leader()?;
    // Everyone agrees on the term, and with no failures it stays put.
    cfg.sleep(50)?;
    let term1 = cfg.check_terms()?;
    assert!(term1 >= 1, "term is {term1}, but should be at least 1");
    cfg.sleep(2 * ELECTION_TIMEOUT)?;
    let term2 = cfg.check_terms()?;
    assert_eq!(
        term1, term2,
        "term changed even though there were no failures"
    );
    cfg.check_one_leader()?;
    cfg.check()
}

#[test]
fn re_election() -> Result<(), SimError> {
    let servers = 3;
    let mut cfg = Cluster::new(servers, 2)?;
    let leader1 = cfg.check_one_leader()?;
    // If the leader disconnects, a new one is elected.
    cfg.disconnect(leader1);
    cfg.check_one_leader()?;
    // The old leader rejoining does not disturb the new one.
    cfg.connect(leader1);
    let leader2 = cfg.check_one_leader()?;
    // No quorum: no leader.
    cfg.disconnect(leader2);
    cfg.disconnect((leader2 + 1) % servers);
    cfg.sleep(2 * ELECTION_TIMEOUT)?;
    cfg.check_no_leader()?;
    // A quorum again: a leader.
    cfg.connect((leader2 + 1) % servers);
    cfg.check_one_leader()?;
    // The last node rejoining does not prevent a leader.
    cfg.connect(leader2);
    cfg.check_one_leader()?;
    cfg.check()
}

#[test]
fn many_elections() -> Result<(), SimError> {
    let servers = 7;
    let mut cfg = Cluster::new(servers, 3)?;
    cfg.check_one_leader()?;
    for _ in 0..10 {
        // Disconnect three nodes (possibly the same twice).
        let i1 = cfg.rand(servers as u64) as usize;
        let i2 = cfg.rand(servers as u64) as usize;
        let i3 = cfg.rand(servers as u64) as usize;
        cfg.disconnect(i1);
        cfg.disconnect(i2);
        cfg.disconnect(i3);
        // Either the current leader should still be alive, or the remaining four should elect one.
        cfg.check_one_leader()?;
        cfg.connect(i1);
        cfg.connect(i2);
        cfg.connect(i3);
    }
    cfg.check_one_leader()?;
    cfg.check()
}
