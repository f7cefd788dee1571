//! In-memory tests of the shard group state machine: a controller and
//! several groups exchanging shards by direct calls (each group one replica;
//! replication is Raft's job), with the leader duties driven by hand.

use std::collections::BTreeMap;

use super::*;
use crate::shard::{CtrlerCommand, CtrlerOp, CtrlerState};

struct World {
    ctrler: CtrlerState,
    ctrler_seq: u64,
    groups: BTreeMap<Gid, ShardKv>,
    /// Every entry each group applied, to replay on a second replica.
    logs: BTreeMap<Gid, Vec<ShardCommand>>,
}

impl World {
    fn new(gids: &[Gid], bugs: &[ShardBug]) -> World {
        let bugs: ShardBugs = bugs.iter().copied().collect();
        World {
            ctrler: CtrlerState::new(10),
            ctrler_seq: 0,
            groups: gids
                .iter()
                .map(|&g| (g, ShardKv::new(g, 10, bugs.clone())))
                .collect(),
            logs: BTreeMap::new(),
        }
    }

    fn ctrl(&mut self, op: CtrlerOp) {
        self.ctrler_seq += 1;
        let cmd = CtrlerCommand {
            client_id: 1,
            seq: self.ctrler_seq,
            op,
        };
        self.ctrler.apply_command(cmd);
    }

    fn join(&mut self, gid: Gid) {
        self.ctrl(CtrlerOp::Join(BTreeMap::from([(
            gid,
            vec![format!("g{gid}")],
        )])));
    }

    fn log(&mut self, gid: Gid, cmd: ShardCommand) -> ShardApply {
        self.logs.entry(gid).or_default().push(cmd.clone());
        let g = self.groups.get_mut(&gid).unwrap();
        let index = g.applied() + 1;
        g.apply(index, &cmd.encode().unwrap())
    }

    /// Each group's leader fetches the next configuration if it may.
    fn poll_configs(&mut self) -> bool {
        let mut progress = false;
        let gids: Vec<Gid> = self.groups.keys().copied().collect();
        for gid in gids {
            if let Some(n) = self.groups[&gid].wants_config()
                && n <= self.ctrler.latest().num
            {
                let cfg = self.ctrler.query(n as i64).clone();
                progress |= matches!(
                    self.log(gid, ShardCommand::Config(cfg)),
                    ShardApply::ConfigApplied { .. }
                );
            }
        }
        progress
    }

    /// Each group pulls what it waits for; `lose` drops the first pull reply.
    fn pull_all(&mut self, mut lose: usize) -> bool {
        let mut progress = false;
        let gids: Vec<Gid> = self.groups.keys().copied().collect();
        for gid in gids {
            let num = self.groups[&gid].config().num;
            for (shard, from, servers) in self.groups[&gid].pulls() {
                assert_eq!(servers, vec![format!("g{from}")]);
                let reply = self.groups[&from].pull(num, shard);
                if let Some(cmd) = self.groups[&from].after_pull(num, shard) {
                    self.log(from, cmd);
                }
                if lose > 0 {
                    lose -= 1;
                    continue;
                }
                if let PullReply::Shard(content) = reply {
                    let out = self.log(
                        gid,
                        ShardCommand::Install {
                            config_num: num,
                            shard,
                            content,
                        },
                    );
                    progress |= matches!(out, ShardApply::Installed { .. });
                }
            }
        }
        progress
    }

    /// Each group asks old owners to delete, then confirms.
    fn gc_all(&mut self) -> bool {
        let mut progress = false;
        let gids: Vec<Gid> = self.groups.keys().copied().collect();
        for gid in gids {
            let num = self.groups[&gid].config().num;
            for (shard, from, _) in self.groups[&gid].gcs() {
                match self.groups[&from].delete_request(num, shard) {
                    DeleteAnswer::NotReady => continue,
                    DeleteAnswer::Propose(cmd) => {
                        self.log(from, cmd);
                    }
                    DeleteAnswer::Done => {}
                }
                assert_eq!(
                    self.groups[&from].delete_request(num, shard),
                    DeleteAnswer::Done
                );
                self.log(
                    gid,
                    ShardCommand::Confirmed {
                        config_num: num,
                        shard,
                    },
                );
                progress = true;
            }
        }
        progress
    }

    fn settle(&mut self) {
        for _ in 0..100 {
            let a = self.poll_configs();
            let b = self.pull_all(0);
            let c = self.gc_all();
            if !(a || b || c) {
                return;
            }
        }
        panic!("migration did not settle");
    }

    /// Send a client op to the group the controller names (no retries).
    fn op(&mut self, client_id: u64, seq: u64, op: Op) -> ShardApply {
        let shard = key_to_shard(op.key(), 10);
        let gid = self.ctrler.latest().owner(shard);
        self.op_at(gid, client_id, seq, op)
    }

    fn op_at(&mut self, gid: Gid, client_id: u64, seq: u64, op: Op) -> ShardApply {
        self.log(gid, ShardCommand::Client(Command { client_id, seq, op }))
    }

    fn owner_read(&self, key: &str) -> Option<String> {
        let gid = self.ctrler.latest().owner(key_to_shard(key, 10));
        self.groups[&gid]
            .read(key)
            .expect("owner serves after settle")
    }
}

fn append(key: &str, value: &str) -> Op {
    Op::Append {
        key: key.into(),
        value: value.into(),
    }
}

fn keys() -> Vec<String> {
    (0..40).map(|i| format!("k{i}")).collect()
}

#[test]
fn join_migrate_leave_keeps_every_key_and_replicas_agree() {
    let mut w = World::new(&[1, 2, 3], &[]);
    w.join(1);
    w.settle();
    assert_eq!(w.groups[&1].served_shards().len(), 10);
    for (i, k) in keys().iter().enumerate() {
        assert!(matches!(
            w.op(7, i as u64 + 1, append(k, "a")),
            ShardApply::Client {
                duplicate: false,
                ..
            }
        ));
    }
    w.join(2);
    w.join(3);
    w.settle();
    assert_eq!(w.groups[&1].config().num, 3);
    for gid in [1, 2, 3] {
        assert!(w.groups[&gid].served_shards().len() >= 3);
    }
    w.ctrl(CtrlerOp::Leave(vec![1]));
    w.ctrl(CtrlerOp::Move { shard: 0, gid: 2 });
    w.settle();
    assert!(w.groups[&1].served_shards().is_empty());
    assert_eq!(
        w.groups[&1].stored_bytes(),
        0,
        "old owner deleted its shards"
    );
    for k in keys() {
        assert_eq!(w.owner_read(&k).as_deref(), Some("a"));
    }
    // A second replica applying the same log reaches the same state.
    for (gid, log) in &w.logs {
        let mut replica = ShardKv::new(*gid, 10, ShardBugs::new());
        for (i, cmd) in log.iter().enumerate() {
            replica.apply(i as u64 + 1, &cmd.encode().unwrap());
        }
        assert_eq!(&replica, &w.groups[gid]);
    }
}

#[test]
fn wrong_group_until_installed_and_unaffected_shards_keep_serving() {
    let mut w = World::new(&[1, 2], &[]);
    w.join(1);
    w.settle();
    for (i, k) in keys().iter().enumerate() {
        w.op(7, i as u64 + 1, append(k, "a"));
    }
    w.join(2);
    assert!(w.poll_configs());
    let moving = w.groups[&2].pulls();
    assert_eq!(moving.len(), 5);
    let staying: Vec<usize> = w.groups[&1].config().shards_of(1);
    assert_eq!(staying.len(), 5);
    // Challenge 2: group 1 still serves the shards it keeps...
    for k in keys() {
        let shard = key_to_shard(&k, 10);
        let at1 = w.groups[&1].read(&k);
        let at2 = w.groups[&2].read(&k);
        if staying.contains(&shard) {
            assert_eq!(at1.unwrap().as_deref(), Some("a"));
        } else {
            // ... and neither group serves a shard in flight.
            assert!(at1.is_err() && at2.is_err());
        }
    }
    let wrong = w.op_at(1, 8, 1, append(&first_key_in(&moving[0].0), "x"));
    assert!(matches!(wrong, ShardApply::WrongGroup { .. }));
    // Partial migration: install one shard; it is served while others wait.
    let (shard, from, _) = moving[0].clone();
    let PullReply::Shard(content) = w.groups[&from].pull(2, shard) else {
        panic!("old owner is at config 2");
    };
    w.log(
        2,
        ShardCommand::Install {
            config_num: 2,
            shard,
            content,
        },
    );
    assert_eq!(w.groups[&2].status(shard), Some(ShardStatus::GcWaiting));
    assert!(w.groups[&2].read(&first_key_in(&shard)).is_ok());
    assert_eq!(w.groups[&2].status(moving[1].0), Some(ShardStatus::Pulling));
    // Neither group advances to a later config while shards are in flight.
    w.join(3);
    assert_eq!(w.groups[&1].wants_config(), None);
    assert_eq!(w.groups[&2].wants_config(), None);
    let stale_cfg = w.ctrler.query(3).clone();
    assert!(matches!(
        w.log(1, ShardCommand::Config(stale_cfg)),
        ShardApply::Ignored(_)
    ));
    w.settle();
    // Group 3 never pulls (it is not in this world): what it should get
    // stays BePulling at its old owners, which therefore stop advancing.
    assert_eq!(w.groups[&2].config().num, 3);
    let to3 = w.ctrler.latest().shards_of(3);
    assert_eq!(to3.len(), 3);
    for s in to3 {
        let old = w.ctrler.query(2).owner(s);
        assert_eq!(w.groups[&old].status(s), Some(ShardStatus::BePulling));
        assert_eq!(w.groups[&old].wants_config(), None);
    }
}

fn first_key_in(shard: &usize) -> String {
    (0..)
        .map(|i| format!("k{i}"))
        .find(|k| key_to_shard(k, 10) == *shard)
        .unwrap()
}

#[test]
fn old_owner_storage_shrinks_only_after_confirmation() {
    let mut w = World::new(&[1, 2], &[]);
    w.join(1);
    w.settle();
    for (i, k) in keys().iter().enumerate() {
        w.op(7, i as u64 + 1, append(k, "value"));
    }
    let full = w.groups[&1].stored_bytes();
    w.join(2);
    w.poll_configs();
    w.pull_all(0);
    // Installed at the new owner, not yet deleted at the old one.
    assert_eq!(w.groups[&1].stored_bytes(), full);
    w.gc_all();
    let after = w.groups[&1].stored_bytes();
    assert!(after < full, "{after} < {full}");
    assert_eq!(after + w.groups[&2].stored_bytes(), full);
    assert!(w.groups[&2].wants_config().is_some());
}

#[test]
fn sessions_move_with_the_shard() {
    let mut w = World::new(&[1, 2], &[]);
    w.join(1);
    w.settle();
    let key = first_key_in(&9);
    w.op(5, 1, append(&key, "x"));
    w.ctrl(CtrlerOp::Join(BTreeMap::from([(2, vec!["g2".into()])])));
    w.ctrl(CtrlerOp::Move { shard: 9, gid: 2 });
    w.settle();
    // The client's retry of seq 1 reaches the new owner: answered, not re-applied.
    let retry = w.op(5, 1, append(&key, "x"));
    assert!(matches!(
        retry,
        ShardApply::Client {
            duplicate: true,
            ..
        }
    ));
    assert_eq!(w.owner_read(&key).as_deref(), Some("x"));
}

#[test]
fn snapshot_keeps_migration_state() {
    let mut w = World::new(&[1, 2], &[]);
    w.join(1);
    w.settle();
    w.op(5, 1, append("k1", "x"));
    w.join(2);
    w.poll_configs();
    let bytes = w.groups[&2].snapshot().unwrap();
    let mut restored = ShardKv::new(2, 10, ShardBugs::new());
    restored.restore(&bytes).unwrap();
    assert_eq!(restored, w.groups[&2]);
    assert_eq!(restored.pulls().len(), 5);
    let old = w.groups[&1].snapshot().unwrap();
    let mut old_restored = ShardKv::new(1, 10, ShardBugs::new());
    old_restored.restore(&old).unwrap();
    assert_eq!(old_restored.pull(2, 9), w.groups[&1].pull(2, 9));
    assert!(restored.restore(&bytes[..bytes.len() / 2]).is_err());
}

#[test]
fn skip_session_transfer_applies_a_retry_twice() {
    for bug in [false, true] {
        let bugs: &[ShardBug] = if bug {
            &[ShardBug::SkipSessionTransfer]
        } else {
            &[]
        };
        let mut w = World::new(&[1, 2], bugs);
        w.join(1);
        w.settle();
        let key = first_key_in(&9);
        w.op(5, 1, append(&key, "x"));
        w.join(2);
        w.settle();
        assert_eq!(w.groups[&2].status(9), Some(ShardStatus::Serving));
        w.op(5, 1, append(&key, "x"));
        let want = if bug { "xx" } else { "x" };
        assert_eq!(w.owner_read(&key).as_deref(), Some(want));
    }
}

#[test]
fn serve_during_handoff_loses_a_write() {
    for bug in [false, true] {
        let bugs: &[ShardBug] = if bug {
            &[ShardBug::ServeDuringHandoff]
        } else {
            &[]
        };
        let mut w = World::new(&[1, 2], bugs);
        w.join(1);
        w.settle();
        let key = first_key_in(&5);
        w.op(5, 1, append(&key, "x"));
        w.join(2);
        w.poll_configs();
        assert_eq!(w.groups[&2].pulls()[0].0, 5);
        w.pull_all(0);
        // A client with an old configuration writes to the old owner.
        let late = w.op_at(1, 6, 1, append(&key, "y"));
        w.settle();
        if bug {
            assert!(matches!(
                late,
                ShardApply::Client {
                    duplicate: false,
                    ..
                }
            ));
            assert_eq!(
                w.owner_read(&key).as_deref(),
                Some("x"),
                "acknowledged write lost"
            );
        } else {
            assert!(matches!(late, ShardApply::WrongGroup { .. }));
        }
    }
}

#[test]
fn early_gc_loses_the_shard_when_a_pull_reply_is_lost() {
    for bug in [false, true] {
        let bugs: &[ShardBug] = if bug { &[ShardBug::EarlyGc] } else { &[] };
        let mut w = World::new(&[1, 2], bugs);
        w.join(1);
        w.settle();
        let key = first_key_in(&5);
        w.op(5, 1, append(&key, "x"));
        w.join(2);
        w.poll_configs();
        assert_eq!(w.groups[&2].pulls()[0].0, 5);
        w.pull_all(1); // the first pull reply is lost in the network
        w.settle();
        let want = if bug { None } else { Some("x") };
        assert_eq!(w.owner_read(&key).as_deref(), want);
    }
}
