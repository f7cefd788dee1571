//! MIT 6.5840 Raft lab, part 3C (persistence), on the simulator: crashes
//! keep only what each node made durable.

use faultline_sim::cluster::ELECTION_TIMEOUT;
use faultline_sim::{Cluster, SimError};

#[test]
fn persist1() -> Result<(), SimError> {
    let servers = 3;
    let mut cfg = Cluster::new(servers, 20)?;
    cfg.one(11, servers, true)?;
    // Crash and restart all.
    for i in 0..servers {
        cfg.start(i)?;
    }
    for i in 0..servers {
        cfg.disconnect(i);
        cfg.connect(i);
    }
    cfg.one(12, servers, true)?;
    let leader1 = cfg.check_one_leader()?;
    cfg.disconnect(leader1);
    cfg.start(leader1)?;
    cfg.connect(leader1);
    cfg.one(13, servers, true)?;
    let leader2 = cfg.check_one_leader()?;
    cfg.disconnect(leader2);
    let index = cfg.one(14, servers - 1, true)?;
    cfg.start(leader2)?;
    cfg.connect(leader2);
    // Wait for leader2 to join before killing i3.
    cfg.wait(index, servers, None)?;
    let i3 = (cfg.check_one_leader()? + 1) % servers;
    cfg.disconnect(i3);
    cfg.one(15, servers - 1, true)?;
    cfg.start(i3)?;
    cfg.connect(i3);
    cfg.one(16, servers, true)?;
    cfg.check()
}

#[test]
fn persist2() -> Result<(), SimError> {
    let servers = 5;
    let mut cfg = Cluster::new(servers, 21)?;
    let mut index = 1;
    for _ in 0..5 {
        cfg.one(10 + index, servers, true)?;
        index += 1;
        let leader1 = cfg.check_one_leader()?;
        cfg.disconnect((leader1 + 1) % servers);
        cfg.disconnect((leader1 + 2) % servers);
        cfg.one(10 + index, servers - 2, true)?;
        index += 1;
        cfg.disconnect(leader1 % servers);
        cfg.disconnect((leader1 + 3) % servers);
        cfg.disconnect((leader1 + 4) % servers);
        cfg.start((leader1 + 1) % servers)?;
        cfg.start((leader1 + 2) % servers)?;
        cfg.connect((leader1 + 1) % servers);
        cfg.connect((leader1 + 2) % servers);
        cfg.sleep(ELECTION_TIMEOUT)?;
        cfg.start((leader1 + 3) % servers)?;
        cfg.connect((leader1 + 3) % servers);
        cfg.one(10 + index, servers - 2, true)?;
        index += 1;
        cfg.connect((leader1 + 4) % servers);
        cfg.connect(leader1 % servers);
    }
    cfg.one(1000, servers, true)?;
    cfg.check()
}

#[test]
fn persist3() -> Result<(), SimError> {
    // A partitioned leader and one follower crash; the leader restarts.
    let servers = 3;
    let mut cfg = Cluster::new(servers, 22)?;
    cfg.one(101, 3, true)?;
    let leader = cfg.check_one_leader()?;
    cfg.disconnect((leader + 2) % servers);
    cfg.one(102, 2, true)?;
    cfg.crash(leader % servers);
    cfg.crash((leader + 1) % servers);
    cfg.connect((leader + 2) % servers);
    cfg.start(leader % servers)?;
    cfg.connect(leader % servers);
    cfg.one(103, 2, true)?;
    cfg.start((leader + 1) % servers)?;
    cfg.connect((leader + 1) % servers);
    cfg.one(104, servers, true)?;
    cfg.check()
}

/// The lab's Figure 8 test: leaders crash with entries on a minority while
/// others restart; afterwards everything must still agree.
fn figure8_scenario(seed: u64, unreliable: bool, iters: usize) -> Result<(), SimError> {
    let servers = 5;
    let mut cfg = Cluster::with(servers, seed, unreliable, 0)?;
    let v = cfg.rand(10_000);
    cfg.one(v, 1, true)?;
    let mut nup = servers;
    for iter in 0..iters {
        if unreliable && iter == iters / 5 {
            cfg.set_long_reordering(true);
        }
        let mut leader = None;
        for i in 0..servers {
            if cfg.is_up(i) && cfg.is_connected(i) {
                let v = cfg.rand(10_000);
                if cfg.start_cmd(i, v).is_some() {
                    leader = Some(i);
                }
            }
        }
        let pause = if cfg.rand(1000) < 100 {
            cfg.rand(ELECTION_TIMEOUT / 2)
        } else {
            cfg.rand(13)
        };
        cfg.sleep(pause)?;
        if let Some(l) = leader {
            if unreliable {
                if cfg.rand(1000) < ELECTION_TIMEOUT / 2 {
                    cfg.disconnect(l);
                    nup -= 1;
                }
            } else {
                cfg.crash(l);
                nup -= 1;
            }
        }
        if nup < 3 {
            let s = cfg.rand(servers as u64) as usize;
            if unreliable {
                if !cfg.is_connected(s) {
                    cfg.connect(s);
                    nup += 1;
                }
            } else if !cfg.is_up(s) {
                cfg.start(s)?;
                cfg.connect(s);
                nup += 1;
            }
        }
    }
    for i in 0..servers {
        if !cfg.is_up(i) {
            cfg.start(i)?;
        }
        cfg.connect(i);
    }
    if unreliable {
        cfg.set_long_reordering(false);
        cfg.set_unreliable(false);
    }
    let v = cfg.rand(10_000);
    cfg.one(v, servers, true)?;
    cfg.check()
}

#[test]
fn figure8() -> Result<(), SimError> {
    figure8_scenario(23, false, 1000)
}

#[test]
fn figure8_unreliable() -> Result<(), SimError> {
    figure8_scenario(24, true, 1000)
}

#[test]
fn unreliable_agree() -> Result<(), SimError> {
    let servers = 5;
    let mut cfg = Cluster::with(servers, 25, true, 0)?;
    for iter in 1..50u64 {
        // Four commands "in flight" at once, handed to whoever leads now.
        for j in 0..4 {
            for i in 0..servers {
                if cfg.start_cmd(i, 100 * iter + j).is_some() {
                    break;
                }
            }
        }
        cfg.one(iter, 1, true)?;
    }
    cfg.set_unreliable(false);
    cfg.sleep(ELECTION_TIMEOUT)?;
    cfg.one(100, servers, true)?;
    cfg.check()
}

/// The lab's churn test: servers disconnect, crash and restart at random
/// while clients keep submitting; every command a client saw committed must
/// be in the final log.
fn churn(seed: u64, unreliable: bool) -> Result<(), SimError> {
    let servers = 5;
    let mut cfg = Cluster::with(servers, seed, unreliable, 0)?;
    let mut acked: Vec<(u64, u64)> = Vec::new();
    let mut next = 1u64;
    for _ in 0..20 {
        // Three clients submit a command each to whoever accepts it.
        let mut pending = Vec::new();
        for _ in 0..3 {
            for i in 0..servers {
                if cfg.is_up(i)
                    && let Some((index, _)) = cfg.start_cmd(i, next)
                {
                    pending.push((index, next));
                    break;
                }
            }
            next += 1;
        }
        if cfg.rand(1000) < 200 {
            let i = cfg.rand(servers as u64) as usize;
            cfg.disconnect(i);
        }
        if cfg.rand(1000) < 500 {
            let i = cfg.rand(servers as u64) as usize;
            if !cfg.is_up(i) {
                cfg.start(i)?;
            }
            cfg.connect(i);
        }
        if cfg.rand(1000) < 200 {
            let i = cfg.rand(servers as u64) as usize;
            if cfg.is_up(i) {
                cfg.crash(i);
            }
        }
        // Make crash/restart cycles several election timeouts apart.
        cfg.sleep(ELECTION_TIMEOUT * 7 / 10)?;
        for (index, v) in pending {
            let (nd, cmd) = cfg.n_committed(index)?;
            if nd > 0 && cmd == Some(v) {
                acked.push((index, v));
            }
        }
    }
    cfg.sleep(ELECTION_TIMEOUT)?;
    cfg.set_unreliable(false);
    for i in 0..servers {
        if !cfg.is_up(i) {
            cfg.start(i)?;
        }
        cfg.connect(i);
    }
    let v = cfg.rand(1 << 30) + 1_000_000;
    let last = cfg.one(v, servers, true)?;
    for (index, v) in acked {
        assert!(
            index <= last,
            "acknowledged index {index} beyond the final one {last}"
        );
        let (_, cmd) = cfg.n_committed(index)?;
        assert_eq!(
            cmd,
            Some(v),
            "acknowledged command {v} is not at index {index}"
        );
    }
    cfg.check()
}

#[test]
fn reliable_churn() -> Result<(), SimError> {
    churn(26, false)
}

#[test]
fn unreliable_churn() -> Result<(), SimError> {
    churn(27, true)
}
