//! MIT 6.5840 Raft lab, part 3D (log compaction), on the simulator: nodes
//! snapshot every `SNAPSHOT_INTERVAL` applied entries; followers that fell
//! behind get InstallSnapshot; restarted nodes restore from their snapshot.

use faultline_sim::{Cluster, SimError};

const SNAPSHOT_INTERVAL: u64 = 10;
/// The retained log may not grow past this many entries (the lab bounds the
/// persisted Raft state at 2000 bytes for the same purpose).
const MAX_LOG_LEN: usize = 4 * SNAPSHOT_INTERVAL as usize + 10;

fn snapcommon(seed: u64, disconnect: bool, reliable: bool, crash: bool) -> Result<(), SimError> {
    let iters = 30;
    let servers = 3;
    let mut cfg = Cluster::with(servers, seed, !reliable, SNAPSHOT_INTERVAL)?;
    let v = cfg.rand(1 << 30);
    cfg.one(v, servers, true)?;
    let mut leader1 = cfg.check_one_leader()?;
    for i in 0..iters {
        let mut victim = (leader1 + 1) % servers;
        let mut sender = leader1;
        if i % 3 == 1 {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }
        if disconnect {
            cfg.disconnect(victim);
            let v = cfg.rand(1 << 30);
            cfg.one(v, servers - 1, true)?;
        }
        if crash {
            cfg.crash(victim);
            let v = cfg.rand(1 << 30);
            cfg.one(v, servers - 1, true)?;
        }
        // Perhaps send enough to get a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + cfg.rand(SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            let v = cfg.rand(1 << 30);
            if cfg.is_up(sender) {
                cfg.start_cmd(sender, v);
            }
        }
        // Let the appliers catch up with the Start()s.
        let v = cfg.rand(1 << 30);
        if !disconnect && !crash {
            cfg.one(v, servers, true)?;
        } else {
            cfg.one(v, servers - 1, true)?;
        }
        let len = cfg.max_log_len();
        assert!(len <= MAX_LOG_LEN, "log too long: {len} entries retained");
        if disconnect {
            // Reconnect a follower, who may need a snapshot.
            cfg.connect(victim);
            let v = cfg.rand(1 << 30);
            cfg.one(v, servers, true)?;
            leader1 = cfg.check_one_leader()?;
        }
        if crash {
            cfg.start(victim)?;
            cfg.connect(victim);
            let v = cfg.rand(1 << 30);
            cfg.one(v, servers, true)?;
            leader1 = cfg.check_one_leader()?;
        }
    }
    assert!(
        cfg.world().stats.snapshots > 0,
        "no snapshot was ever taken"
    );
    cfg.check()
}

#[test]
fn snapshot_basic() -> Result<(), SimError> {
    snapcommon(30, false, true, false)
}

#[test]
fn snapshot_install() -> Result<(), SimError> {
    snapcommon(31, true, true, false)
}

#[test]
fn snapshot_install_unreliable() -> Result<(), SimError> {
    snapcommon(32, true, false, false)
}

#[test]
fn snapshot_install_crash() -> Result<(), SimError> {
    snapcommon(33, false, true, true)
}

#[test]
fn snapshot_install_unreliable_crash() -> Result<(), SimError> {
    snapcommon(34, false, false, true)
}

#[test]
fn snapshot_all_crash() -> Result<(), SimError> {
    // Crash and restart all servers.
    let servers = 3;
    let iters = 5;
    let mut cfg = Cluster::with(servers, 35, false, SNAPSHOT_INTERVAL)?;
    let v = cfg.rand(1 << 30);
    cfg.one(v, servers, true)?;
    for _ in 0..iters {
        // Perhaps enough to get a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + cfg.rand(SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            let v = cfg.rand(1 << 30);
            cfg.one(v, servers, true)?;
        }
        let v = cfg.rand(1 << 30);
        let index1 = cfg.one(v, servers, true)?;
        for i in 0..servers {
            cfg.crash(i);
        }
        for i in 0..servers {
            cfg.start(i)?;
            cfg.connect(i);
        }
        let v = cfg.rand(1 << 30);
        let index2 = cfg.one(v, servers, true)?;
        assert!(index2 > index1, "index decreased from {index1} to {index2}");
    }
    assert!(
        cfg.world().stats.snapshots > 0,
        "no snapshot was ever taken"
    );
    cfg.check()
}

#[test]
fn snapshot_init() -> Result<(), SimError> {
    // Snapshot initialization after a crash.
    let servers = 3;
    let mut cfg = Cluster::with(servers, 36, false, SNAPSHOT_INTERVAL)?;
    let v = cfg.rand(1 << 30);
    cfg.one(v, servers, true)?;
    // Enough ops to make a snapshot.
    for _ in 0..=SNAPSHOT_INTERVAL {
        let v = cfg.rand(1 << 30);
        cfg.one(v, servers, true)?;
    }
    assert!(
        cfg.world().nodes.iter().all(|n| n.disk.snapshot.is_some()),
        "every node should have snapshotted"
    );
    for _ in 0..2 {
        for i in 0..servers {
            cfg.crash(i);
        }
        for i in 0..servers {
            cfg.start(i)?;
            cfg.connect(i);
        }
        // A single op, to get something written back to persistent storage.
        let v = cfg.rand(1 << 30);
        cfg.one(v, servers, true)?;
    }
    cfg.check()
}
