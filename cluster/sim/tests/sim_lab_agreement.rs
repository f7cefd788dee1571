//! MIT 6.5840 Raft lab, part 3B (log agreement), on the simulator. Leaders
//! append a no-op when elected, so indices are checked relative to the
//! first command rather than from 1.

use faultline_sim::cluster::ELECTION_TIMEOUT;
use faultline_sim::{Cluster, SimError};

#[test]
fn basic_agree() -> Result<(), SimError> {
    let servers = 3;
    let mut cfg = Cluster::new(servers, 10)?;
    let mut expected = None;
    for iter in 1..=3u64 {
        if let Some(next) = expected {
            let (nd, _) = cfg.n_committed(next)?;
            assert_eq!(nd, 0, "some have committed before Start()");
        }
        let index = cfg.one(iter * 100, servers, false)?;
        if let Some(want) = expected {
            assert_eq!(index, want, "got index {index} but expected {want}");
        }
        expected = Some(index + 1);
    }
    cfg.check()
}

#[test]
fn follower_failure() -> Result<(), SimError> {
    // Agreement despite a disconnected follower, and after it reconnects.
    let servers = 3;
    let mut cfg = Cluster::new(servers, 11)?;
    cfg.one(101, servers, false)?;
    let leader = cfg.check_one_leader()?;
    cfg.disconnect((leader + 1) % servers);
    cfg.one(102, servers - 1, false)?;
    cfg.one(103, servers - 1, false)?;
    cfg.sleep(ELECTION_TIMEOUT)?;
    cfg.one(104, servers - 1, false)?;
    cfg.one(105, servers - 1, false)?;
    cfg.connect((leader + 1) % servers);
    cfg.one(106, servers, true)?;
    cfg.sleep(ELECTION_TIMEOUT)?;
    cfg.one(107, servers, true)?;
    cfg.check()
}

#[test]
fn fail_no_agree() -> Result<(), SimError> {
    let servers = 5;
    let mut cfg = Cluster::new(servers, 12)?;
    let first = cfg.one(10, servers, false)?;
    // 3 of 5 followers disconnect.
    let leader = cfg.check_one_leader()?;
    for k in 1..=3 {
        cfg.disconnect((leader + k) % servers);
    }
    let Some((index, _)) = cfg.start_cmd(leader, 20) else {
        panic!("leader rejected Start()");
    };
    assert_eq!(
        index,
        first + 1,
        "expected index {}, got {index}",
        first + 1
    );
    cfg.sleep(2 * ELECTION_TIMEOUT)?;
    let (n, _) = cfg.n_committed(index)?;
    assert_eq!(n, 0, "{n} committed but no majority");
    // Repair.
    for k in 1..=3 {
        cfg.connect((leader + k) % servers);
    }
    // The disconnected majority may have chosen a leader from among their
    // own ranks, forgetting index 2.
    let leader2 = cfg.check_one_leader()?;
    let Some((index2, _)) = cfg.start_cmd(leader2, 30) else {
        panic!("leader2 rejected Start()");
    };
    assert!(index2 > first, "unexpected index {index2}");
    cfg.one(1000, servers, true)?;
    cfg.check()
}

#[test]
fn concurrent_starts() -> Result<(), SimError> {
    let servers = 3;
    let mut cfg = Cluster::new(servers, 13)?;
    let mut success = false;
    'tries: for attempt in 0..5 {
        if attempt > 0 {
            cfg.sleep(3000)?;
        }
        let leader = cfg.check_one_leader()?;
        let Some((_, term)) = cfg.start_cmd(leader, 1) else {
            continue;
        };
        // Five commands started at one instant.
        let mut started = Vec::new();
        for i in 0..5u64 {
            match cfg.start_cmd(leader, 100 + i) {
                Some((index, t)) if t == term => started.push((index, 100 + i)),
                _ => continue 'tries,
            }
        }
        for &(index, want) in &started {
            match cfg.wait(index, servers, Some(term))? {
                Some(cmd) => assert_eq!(cmd, want, "value {cmd} at index {index}, wanted {want}"),
                // The term moved on; try again.
                None => continue 'tries,
            }
        }
        success = true;
        break;
    }
    assert!(success, "term changed too often");
    cfg.check()
}

#[test]
fn rejoin() -> Result<(), SimError> {
    // A partitioned leader rejoins.
    let servers = 3;
    let mut cfg = Cluster::new(servers, 14)?;
    cfg.one(101, servers, true)?;
    // The leader network failure.
    let leader1 = cfg.check_one_leader()?;
    cfg.disconnect(leader1);
    // Make the old leader try to agree on some entries.
    cfg.start_cmd(leader1, 102);
    cfg.start_cmd(leader1, 103);
    cfg.start_cmd(leader1, 104);
    // The new leader commits, also for the old leader's indices.
    cfg.one(103, 2, true)?;
    // New leader network failure.
    let leader2 = cfg.check_one_leader()?;
    cfg.disconnect(leader2);
    // The old leader connected again.
    cfg.connect(leader1);
    cfg.one(104, 2, true)?;
    // All together now.
    cfg.connect(leader2);
    cfg.one(105, servers, true)?;
    cfg.check()
}

#[test]
fn backup() -> Result<(), SimError> {
    // A leader backs up quickly over incorrect follower logs.
    let servers = 5;
    let mut cfg = Cluster::new(servers, 15)?;
    let started = cfg.world().now();
    let v = cfg.rand(1 << 30);
    cfg.one(v, servers, true)?;
    // Put the leader and one follower in a partition.
    let leader1 = cfg.check_one_leader()?;
    for k in 2..=4 {
        cfg.disconnect((leader1 + k) % servers);
    }
    // Submit lots of commands that won't commit.
    for _ in 0..50 {
        let v = cfg.rand(1 << 30);
        cfg.start_cmd(leader1, v);
    }
    cfg.sleep(ELECTION_TIMEOUT / 2)?;
    cfg.disconnect(leader1);
    cfg.disconnect((leader1 + 1) % servers);
    // Allow the other partition to recover.
    for k in 2..=4 {
        cfg.connect((leader1 + k) % servers);
    }
    // Lots of successful commands to the new group.
    for _ in 0..50 {
        let v = cfg.rand(1 << 30);
        cfg.one(v, 3, true)?;
    }
    // Now another partitioned leader and one follower.
    let leader2 = cfg.check_one_leader()?;
    let mut other = (leader1 + 2) % servers;
    if leader2 == other {
        other = (leader2 + 1) % servers;
    }
    cfg.disconnect(other);
    // Lots more commands that won't commit.
    for _ in 0..50 {
        let v = cfg.rand(1 << 30);
        cfg.start_cmd(leader2, v);
    }
    cfg.sleep(ELECTION_TIMEOUT / 2)?;
    // Bring the original leader back to life.
    for i in 0..servers {
        cfg.disconnect(i);
    }
    cfg.connect(leader1);
    cfg.connect((leader1 + 1) % servers);
    cfg.connect(other);
    // Lots of successful commands to the new group.
    for _ in 0..50 {
        let v = cfg.rand(1 << 30);
        cfg.one(v, 3, true)?;
    }
    // Now everyone.
    for i in 0..servers {
        cfg.connect(i);
    }
    let v = cfg.rand(1 << 30);
    cfg.one(v, servers, true)?;
    // "Quickly": the whole scenario fits in a bounded amount of virtual time.
    let took = cfg.world().now() - started;
    assert!(
        took < 60 * ELECTION_TIMEOUT,
        "backup took {took} ms of virtual time"
    );
    cfg.check()
}

#[test]
fn count() -> Result<(), SimError> {
    // RPC counts are not too high.
    let servers = 3;
    let mut cfg = Cluster::new(servers, 16)?;
    cfg.check_one_leader()?;
    let total1 = cfg.rpc_total();
    assert!(
        (1..=30).contains(&total1),
        "too many or few RPCs ({total1}) to elect initial leader"
    );

    let mut done = false;
    let mut total2 = 0;
    'tries: for attempt in 0..5 {
        if attempt > 0 {
            cfg.sleep(3000)?;
        }
        let leader = cfg.check_one_leader()?;
        let total1 = cfg.rpc_total();
        let iters = 10u64;
        let Some((starti, term)) = cfg.start_cmd(leader, 1) else {
            continue;
        };
        let mut cmds = Vec::new();
        for i in 1..iters + 2 {
            let x = cfg.rand(1 << 30);
            cmds.push(x);
            match cfg.start_cmd(leader, x) {
                Some((index1, term1)) if term1 == term => {
                    assert_eq!(index1, starti + i, "Start() failed");
                }
                _ => continue 'tries,
            }
        }
        for i in 1..iters + 1 {
            match cfg.wait(starti + i, servers, Some(term))? {
                Some(cmd) => assert_eq!(
                    cmd,
                    cmds[(i - 1) as usize],
                    "wrong value at index {}",
                    starti + i
                ),
                None => continue 'tries,
            }
        }
        if (0..servers).any(|j| cfg.state(j).is_some_and(|(t, _)| t != term)) {
            continue;
        }
        total2 = cfg.rpc_total();
        assert!(
            total2 - total1 <= (iters + 1 + 3) * 3,
            "too many RPCs ({}) for {iters} entries",
            total2 - total1
        );
        done = true;
        break;
    }
    assert!(done, "term changed too often");
    cfg.sleep(ELECTION_TIMEOUT)?;
    let total3 = cfg.rpc_total();
    assert!(
        total3 - total2 <= 3 * 20,
        "too many RPCs ({}) for 1 second of idleness",
        total3 - total2
    );
    cfg.check()
}
