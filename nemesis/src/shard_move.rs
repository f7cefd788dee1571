//! `shard-move`: configuration changes through the shard controller of a
//! sharded system (`Db::shards`). Each fault is one change drawn from the
//! seeded RNG and the current configuration: either a **Leave** of a joined
//! group (every shard it owns moves to the others) or a single-shard
//! **Move** to another joined group. Stopping the fault undoes it: the group
//! **Join**s again (the controller rebalances, so shards come back), or the
//! shard moves back to its previous owner. The final heal also joins every
//! group of the deployment, so at the end all groups serve. The history
//! records each change with the configuration numbers and the shards that
//! changed hands. A group is never left when it is the last one joined
//! (its shards would have nowhere to go).
//!
//! Two faults in three (drawn) also **stall** a group taking part in the
//! change, until the stop:
//! - *Receiver* (a group gaining shards), crash during migration: once its
//!   leader has taken the new configuration its followers are killed
//!   (SIGKILL), so the leader pulls the arriving shards but cannot commit
//!   their installation; 150 ms later the leader is killed too. At the stop
//!   the followers restart first and elect one of them, which has no
//!   install in its log and pulls a second time — where an old owner that
//!   deleted its copy too early (`early-gc`) hands out nothing. Correct code
//!   keeps the copy until the new owner confirms. The old leader restarts
//!   once another leads (or after a few seconds). (Killed, not paused: a
//!   paused follower still finds the leader's appends in its socket when it
//!   resumes.)
//! - *Giver* (a group losing shards), at once: its followers are paused
//!   (SIGSTOP), so client writes in flight to its leader stay uncommitted
//!   while the clients time out, learn the new configuration and retry at
//!   the new owner; when the followers resume they take the leader's
//!   appends, which apply before the shard is handed over, and only the
//!   session table moved with the shard stops a retry from applying twice
//!   (`skip-session-transfer`).

use std::time::{Duration, Instant};

use faultline_workloads::{Db, ShardControl, ShardLayout};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};

/// How long a stall waits for the receiver's leader to take the new
/// configuration before it gives up (and stalls nothing).
const STALL_WAIT: Duration = Duration::from_secs(3);
/// A stalled receiver's leader is killed this long after its followers:
/// time for its leader duty (every 50 ms) to pull the arriving shards.
const PULL_TIME: Duration = Duration::from_millis(150);
/// At the stop, how long the followers of a stalled receiver get to elect
/// a leader before the old leader is restarted anyway.
const ELECTION_WAIT: Duration = Duration::from_secs(3);

/// One configuration change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Remove a group: every shard it owns moves away.
    Leave(u64),
    /// Add groups (again); the controller rebalances.
    Join(Vec<u64>),
    /// Give one shard to a group.
    Move { shard: usize, to: u64 },
}

impl Change {
    fn describe(&self) -> Value {
        match self {
            Change::Leave(g) => json!({"op": "leave", "gids": [g]}),
            Change::Join(gids) => json!({"op": "join", "gids": gids}),
            Change::Move { shard, to } => json!({"op": "move", "shard": shard, "gid": to}),
        }
    }

    fn apply(&self, ctl: &dyn ShardControl) -> Result<u64, NemesisError> {
        Ok(match self {
            Change::Leave(g) => ctl.leave(&[*g])?,
            Change::Join(gids) => ctl.join(gids)?,
            Change::Move { shard, to } => ctl.move_shard(*shard, *to)?,
        })
    }
}

/// The change a fault makes, given the configuration now: with two or more
/// groups joined, a Leave of one of them or a Move of a random shard to a
/// random other joined group (even odds); `None` when nothing can move
/// (fewer than two groups joined).
pub fn draw_change(layout: &ShardLayout, rng: &mut ChaCha8Rng) -> Option<Change> {
    let joined = &layout.joined;
    if joined.len() < 2 || layout.owners.is_empty() {
        return None;
    }
    if rng.random_bool(0.5) {
        return Some(Change::Leave(joined[rng.random_range(0..joined.len())]));
    }
    let shard = rng.random_range(0..layout.owners.len());
    let others: Vec<u64> = joined
        .iter()
        .copied()
        .filter(|&g| g != layout.owners[shard])
        .collect();
    Some(Change::Move {
        shard,
        to: others[rng.random_range(0..others.len())],
    })
}

/// The change that undoes `change`, made when the configuration was
/// `before`: a left group joins again; a moved shard goes back to its
/// previous owner (`None` when that shard was unassigned).
pub fn undo(change: &Change, before: &ShardLayout) -> Option<Change> {
    match change {
        Change::Leave(g) => Some(Change::Join(vec![*g])),
        Change::Join(_) => None,
        Change::Move { shard, .. } => {
            let from = before.owners.get(*shard).copied().unwrap_or(0);
            (from != 0).then_some(Change::Move {
                shard: *shard,
                to: from,
            })
        }
    }
}

/// The shards that changed owner between two configurations, as
/// `{"shard","from","to"}` objects.
pub fn moved(before: &ShardLayout, after: &ShardLayout) -> Vec<Value> {
    (0..after.owners.len())
        .filter_map(|s| {
            let from = before.owners.get(s).copied().unwrap_or(0);
            let to = after.owners[s];
            (from != to).then(|| json!({"shard": s, "from": from, "to": to}))
        })
        .collect()
}

#[derive(Debug, Default)]
pub struct ShardMove {
    /// The change that undoes the fault in force.
    pending: Option<Change>,
    /// A giver's followers paused by a stall, resumed at the stop.
    paused: Vec<String>,
    /// A receiver's followers killed by a stall, restarted at the stop.
    crashed: Vec<String>,
    /// A stalled receiver's leader (gid, node), killed after its followers
    /// and restarted after them once another member leads.
    crashed_leader: Option<(u64, String)>,
    /// A change whose outcome is unknown, or whose undo failed: the next
    /// stop joins every group instead of undoing one change.
    unsettled: bool,
    /// Whether any change was made since the last join of every group.
    changed: bool,
}

fn control(db: &dyn Db) -> Result<&dyn ShardControl, NemesisError> {
    db.shards().ok_or_else(|| {
        NemesisError::Option(
            "shard-move needs a sharded system with a shard controller (faultline run --groups N)"
                .into(),
        )
    })
}

impl ShardMove {
    /// Make `change` and describe it: the configuration it made, the one
    /// before, and the shards that changed hands.
    fn make(&mut self, ctl: &dyn ShardControl, change: &Change) -> Result<Value, NemesisError> {
        self.changed = true;
        let num = match change.apply(ctl) {
            Ok(num) => num,
            Err(e) => {
                self.unsettled = true;
                return Err(e);
            }
        };
        let mut value = change.describe();
        value["config"] = json!(num);
        if num > 0
            && let (Ok(before), Ok(after)) = (ctl.query(Some(num - 1)), ctl.query(Some(num)))
        {
            value["from_config"] = json!(before.num);
            value["moved"] = Value::Array(moved(&before, &after));
        }
        Ok(value)
    }

    /// Stall group `gid` once its leader has applied configuration
    /// `at_least` (at once when `None`): pause every other member. What was
    /// done, for the history.
    fn stall(
        &mut self,
        db: &dyn Db,
        ctl: &dyn ShardControl,
        gid: u64,
        at_least: Option<u64>,
    ) -> Result<Value, NemesisError> {
        let began = Instant::now();
        let until = began + STALL_WAIT;
        let leader = loop {
            match ctl.group_leader(gid) {
                Some((leader, at)) if at >= at_least.unwrap_or(0) => break leader,
                _ if Instant::now() >= until => {
                    return Ok(
                        json!({"gid": gid, "paused": [], "why": "no leader (at the new configuration) in time"}),
                    );
                }
                _ => std::thread::sleep(Duration::from_millis(1)),
            }
        };
        let waited_ms = began.elapsed().as_millis() as u64;
        let receiver = at_least.is_some();
        for n in ctl.members(gid) {
            if n == leader {
                continue;
            }
            if receiver {
                db.kill(&n)?;
                self.crashed.push(n);
            } else {
                db.pause(&n)?;
                self.paused.push(n);
            }
        }
        if receiver {
            std::thread::sleep(PULL_TIME);
            db.kill(&leader)?;
            self.crashed_leader = Some((gid, leader.clone()));
            return Ok(json!({
                "gid": gid,
                "leader": leader,
                "killed": self.crashed,
                "leader_killed": true,
                "waited_ms": waited_ms,
            }));
        }
        Ok(json!({
            "gid": gid,
            "leader": leader,
            "paused": self.paused,
            "waited_ms": waited_ms,
        }))
    }

    /// Undo a stall (every node, even if one fails): resume paused
    /// followers; restart killed ones, then, once another member leads, the
    /// killed leader.
    fn unstall(&mut self, db: &dyn Db) -> Result<(), NemesisError> {
        let mut first_err = None;
        for n in std::mem::take(&mut self.paused) {
            if let Err(e) = db.resume(&n) {
                tracing::warn!(node = %n, error = %e, "resume after a stall failed");
                first_err.get_or_insert(e);
            }
        }
        for n in std::mem::take(&mut self.crashed) {
            if let Err(e) = db.restart(&n) {
                tracing::warn!(node = %n, error = %e, "restart after a stall failed");
                first_err.get_or_insert(e);
            }
        }
        if let Some((gid, old)) = self.crashed_leader.take() {
            if let Some(ctl) = db.shards() {
                let until = Instant::now() + ELECTION_WAIT;
                while Instant::now() < until && ctl.group_leader(gid).is_none_or(|(l, _)| l == old)
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            if let Err(e) = db.restart(&old) {
                tracing::warn!(node = %old, error = %e, "restart after a stall failed");
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Join every group of the deployment (one change).
    fn join_all(&mut self, ctl: &dyn ShardControl) -> Result<Value, NemesisError> {
        let all = Change::Join(ctl.groups());
        let value = self.make(ctl, &all)?;
        self.unsettled = false;
        self.changed = false;
        Ok(value)
    }
}

impl ShardMove {
    /// Name, plot colour and needs of this package.
    pub const INFO: PackageInfo = PackageInfo {
        name: "shard-move",
        colour: "#8c564b",
        needs_network: false,
        needs_shards: true,
    };
}

impl Package for ShardMove {
    fn info(&self) -> PackageInfo {
        Self::INFO
    }

    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError> {
        let ctl = control(db)?;
        let before = ctl.query(None)?;
        let change = draw_change(&before, rng).ok_or_else(|| {
            NemesisError::Option(format!(
                "no shard can move in configuration {}: fewer than two groups joined ({:?})",
                before.num, before.joined
            ))
        })?;
        let stall = Stall::draw(rng);
        let mut value = self.make(ctl, &change)?;
        self.pending = undo(&change, &before);
        if self.pending.is_none() {
            self.unsettled = true;
        }
        let candidates = match stall {
            Stall::None => Vec::new(),
            Stall::Receiver => involved(&value, "to"),
            Stall::Giver => involved(&value, "from"),
        };
        if !candidates.is_empty() {
            let gid = candidates[rng.random_range(0..candidates.len())];
            let at_least = match stall {
                Stall::Receiver => value["config"].as_u64(),
                _ => None,
            };
            // A stall that could not be made is recorded, the move stands.
            let mut st = self.stall(db, ctl, gid, at_least).unwrap_or_else(
                |e| json!({"gid": gid, "paused": self.paused, "error": e.to_string()}),
            );
            st["role"] = json!(stall.name());
            value["stalled"] = st;
        }
        Ok(value)
    }

    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        let ctl = control(db)?;
        let mut resumed = self.paused.clone();
        resumed.extend(self.crashed.iter().cloned());
        resumed.extend(self.crashed_leader.iter().map(|(_, l)| l.clone()));
        self.unstall(db)?;
        let pending = self.pending.take();
        let mut value = self.undo_pending(ctl, pending)?;
        if !resumed.is_empty() {
            value["resumed"] = json!(resumed);
        }
        Ok(value)
    }

    fn active(&self) -> bool {
        self.pending.is_some()
            || self.unsettled
            || !self.paused.is_empty()
            || !self.crashed.is_empty()
            || self.crashed_leader.is_some()
    }

    fn needs_heal(&self) -> bool {
        self.active() || self.changed
    }

    fn heal(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        let undone = if self.active() {
            Some(self.stop(db)?)
        } else {
            None
        };
        let ctl = control(db)?;
        let mut value = self.join_all(ctl)?;
        if let Some(u) = undone {
            value["undone"] = u;
        }
        Ok(value)
    }
}

/// Which group a fault stalls besides its change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    None,
    /// A group gaining shards, once its leader has the new configuration.
    Receiver,
    /// A group losing shards, at once.
    Giver,
}

impl Stall {
    /// Even odds of the three.
    pub fn draw(rng: &mut ChaCha8Rng) -> Stall {
        match rng.random_range(0..3) {
            0 => Stall::None,
            1 => Stall::Receiver,
            _ => Stall::Giver,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stall::None => "none",
            Stall::Receiver => "receiver",
            Stall::Giver => "giver",
        }
    }
}

/// The groups on one side (`"to"`: gaining, `"from"`: losing shards) of a
/// change's description (`moved[]`), ascending, without gid 0.
fn involved(value: &Value, side: &str) -> Vec<u64> {
    let mut gids: Vec<u64> = value["moved"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m[side].as_u64())
        .filter(|&g| g != 0)
        .collect();
    gids.sort_unstable();
    gids.dedup();
    gids
}

impl ShardMove {
    /// Make the undo of the fault (`pending`), or join every group when
    /// there is none or the state is unsettled.
    fn undo_pending(
        &mut self,
        ctl: &dyn ShardControl,
        pending: Option<Change>,
    ) -> Result<Value, NemesisError> {
        match pending {
            Some(change) if !self.unsettled => {
                // A Move back is only possible while its group is joined.
                let now = ctl.query(None)?;
                if let Change::Move { to, .. } = change
                    && !now.joined.contains(&to)
                {
                    return self.join_all(ctl);
                }
                match self.make(ctl, &change) {
                    Ok(v) => Ok(v),
                    Err(e) => {
                        self.unsettled = true;
                        Err(e)
                    }
                }
            }
            _ => self.join_all(ctl),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    use faultline_workloads::{NodeState, WorkloadError};
    use rand::SeedableRng;

    use super::*;

    fn layout(num: u64, owners: &[u64], joined: &[u64]) -> ShardLayout {
        ShardLayout {
            num,
            owners: owners.to_vec(),
            joined: joined.to_vec(),
        }
    }

    fn balanced() -> ShardLayout {
        layout(3, &[1, 1, 1, 1, 2, 2, 2, 3, 3, 3], &[1, 2, 3])
    }

    fn draws(seed: u64, l: &ShardLayout, n: usize) -> Vec<Change> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| draw_change(l, &mut rng).unwrap()).collect()
    }

    #[test]
    fn draws_are_seeded_and_deterministic() {
        let l = balanced();
        assert_eq!(draws(7, &l, 50), draws(7, &l, 50));
        assert_ne!(draws(7, &l, 50), draws(8, &l, 50));
    }

    #[test]
    fn draws_leave_and_move_and_never_move_a_shard_to_its_owner() {
        let l = balanced();
        let all = draws(1, &l, 200);
        let leaves = all.iter().filter(|c| matches!(c, Change::Leave(_))).count();
        assert!((60..=140).contains(&leaves), "{leaves} leaves of 200");
        let left: BTreeSet<u64> = all
            .iter()
            .filter_map(|c| match c {
                Change::Leave(g) => Some(*g),
                _ => None,
            })
            .collect();
        assert_eq!(left, BTreeSet::from([1, 2, 3]));
        for c in &all {
            if let Change::Move { shard, to } = c {
                assert!(*shard < 10);
                assert_ne!(l.owners[*shard], *to, "{c:?}");
                assert!(l.joined.contains(to), "{c:?}");
            }
        }
    }

    #[test]
    fn stalls_are_drawn_evenly_and_repeatably() {
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..90).map(|_| Stall::draw(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(2), run(2));
        for kind in [Stall::None, Stall::Receiver, Stall::Giver] {
            let n = run(2).iter().filter(|&&s| s == kind).count();
            assert!((15..=45).contains(&n), "{kind:?}: {n} of 90");
        }
    }

    #[test]
    fn nothing_moves_with_fewer_than_two_groups_joined() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let one = layout(1, &[1; 10], &[1]);
        assert_eq!(draw_change(&one, &mut rng), None);
        let none = layout(0, &[0; 10], &[]);
        assert_eq!(draw_change(&none, &mut rng), None);
        // Two groups: a Leave never takes the last group, a Move goes to the other.
        let two = layout(2, &[1, 1, 1, 1, 1, 2, 2, 2, 2, 2], &[1, 2]);
        for c in draws(4, &two, 50) {
            match c {
                Change::Leave(g) => assert!(g == 1 || g == 2),
                Change::Move { shard, to } => assert_eq!(to, 3 - two.owners[shard]),
                Change::Join(_) => panic!("a start never joins"),
            }
        }
    }

    #[test]
    fn undo_joins_a_left_group_and_moves_a_shard_back() {
        let l = balanced();
        assert_eq!(undo(&Change::Leave(2), &l), Some(Change::Join(vec![2])));
        assert_eq!(
            undo(&Change::Move { shard: 8, to: 1 }, &l),
            Some(Change::Move { shard: 8, to: 3 })
        );
        let unassigned = layout(0, &[0; 10], &[]);
        assert_eq!(undo(&Change::Move { shard: 0, to: 1 }, &unassigned), None);
        assert_eq!(undo(&Change::Join(vec![1]), &l), None);
    }

    #[test]
    fn moved_lists_the_shards_that_changed_owner() {
        let before = balanced();
        let after = layout(4, &[1, 1, 1, 1, 1, 1, 3, 3, 3, 3], &[1, 3]);
        let m = moved(&before, &after);
        assert_eq!(
            m,
            vec![
                json!({"shard": 4, "from": 2, "to": 1}),
                json!({"shard": 5, "from": 2, "to": 1}),
                json!({"shard": 6, "from": 2, "to": 3}),
            ]
        );
    }

    /// An in-memory controller: Join/Leave rebalance round-robin over the
    /// joined groups, Move moves; every configuration is kept.
    struct FakeCtl {
        groups: Vec<u64>,
        configs: Mutex<Vec<ShardLayout>>,
        fail_next: Mutex<bool>,
    }

    impl FakeCtl {
        fn new(groups: &[u64]) -> FakeCtl {
            let ctl = FakeCtl {
                groups: groups.to_vec(),
                configs: Mutex::new(vec![layout(0, &[0; 10], &[])]),
                fail_next: Mutex::new(false),
            };
            ctl.join(groups).unwrap();
            ctl
        }

        fn push(&self, f: impl FnOnce(&mut ShardLayout)) -> Result<u64, WorkloadError> {
            if std::mem::take(&mut *self.fail_next.lock().unwrap()) {
                return Err(WorkloadError::Db("controller timed out".into()));
            }
            let mut c = self.configs.lock().unwrap();
            let mut next = c.last().unwrap().clone();
            next.num += 1;
            f(&mut next);
            c.push(next.clone());
            Ok(next.num)
        }

        fn latest(&self) -> ShardLayout {
            self.configs.lock().unwrap().last().unwrap().clone()
        }
    }

    fn rebalance(l: &mut ShardLayout) {
        for (s, o) in l.owners.iter_mut().enumerate() {
            *o = l
                .joined
                .get(s % l.joined.len().max(1))
                .copied()
                .unwrap_or(0);
        }
    }

    impl ShardControl for FakeCtl {
        fn groups(&self) -> Vec<u64> {
            self.groups.clone()
        }
        fn join(&self, gids: &[u64]) -> Result<u64, WorkloadError> {
            self.push(|l| {
                l.joined.extend(gids);
                l.joined.sort();
                l.joined.dedup();
                rebalance(l);
            })
        }
        fn leave(&self, gids: &[u64]) -> Result<u64, WorkloadError> {
            self.push(|l| {
                l.joined.retain(|g| !gids.contains(g));
                rebalance(l);
            })
        }
        fn move_shard(&self, shard: usize, gid: u64) -> Result<u64, WorkloadError> {
            self.push(|l| l.owners[shard] = gid)
        }
        fn query(&self, num: Option<u64>) -> Result<ShardLayout, WorkloadError> {
            let c = self.configs.lock().unwrap();
            Ok(match num {
                Some(n) => c[n as usize].clone(),
                None => c.last().unwrap().clone(),
            })
        }
        fn members(&self, gid: u64) -> Vec<String> {
            (1..=3).map(|i| format!("g{gid}n{i}")).collect()
        }
        fn group_leader(&self, gid: u64) -> Option<(String, u64)> {
            Some((format!("g{gid}n2"), self.latest().num))
        }
    }

    /// The controller of a [`FakeDb`]: its leaders are the first of n2, n1,
    /// n3 not stopped (so followers back after a stall elect n1).
    impl ShardControl for FakeDb {
        fn groups(&self) -> Vec<u64> {
            self.0.groups()
        }
        fn join(&self, gids: &[u64]) -> Result<u64, WorkloadError> {
            self.0.join(gids)
        }
        fn leave(&self, gids: &[u64]) -> Result<u64, WorkloadError> {
            self.0.leave(gids)
        }
        fn move_shard(&self, shard: usize, gid: u64) -> Result<u64, WorkloadError> {
            self.0.move_shard(shard, gid)
        }
        fn query(&self, num: Option<u64>) -> Result<ShardLayout, WorkloadError> {
            self.0.query(num)
        }
        fn members(&self, gid: u64) -> Vec<String> {
            self.0.members(gid)
        }
        fn group_leader(&self, gid: u64) -> Option<(String, u64)> {
            let paused = self.paused();
            [2, 1, 3]
                .map(|i| format!("g{gid}n{i}"))
                .into_iter()
                .find(|n| !paused.contains(n))
                .map(|n| (n, self.0.latest().num))
        }
    }

    struct FakeDb(FakeCtl, Mutex<Vec<String>>);

    impl FakeDb {
        fn new(groups: &[u64]) -> FakeDb {
            FakeDb(FakeCtl::new(groups), Mutex::default())
        }
        fn paused(&self) -> Vec<String> {
            self.1.lock().unwrap().clone()
        }
    }

    impl Db for FakeDb {
        fn nodes(&self) -> Vec<String> {
            vec!["g1n1".into()]
        }
        fn kill(&self, n: &str) -> Result<(), WorkloadError> {
            self.1.lock().unwrap().push(n.into());
            Ok(())
        }
        fn restart(&self, n: &str) -> Result<(), WorkloadError> {
            self.1.lock().unwrap().retain(|p| p != n);
            Ok(())
        }
        fn pause(&self, n: &str) -> Result<(), WorkloadError> {
            self.1.lock().unwrap().push(n.into());
            Ok(())
        }
        fn resume(&self, n: &str) -> Result<(), WorkloadError> {
            self.1.lock().unwrap().retain(|p| p != n);
            Ok(())
        }
        fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
            Err(WorkloadError::Db(format!("no status for {node}")))
        }
        fn shards(&self) -> Option<&dyn ShardControl> {
            Some(self)
        }
    }

    #[test]
    fn each_stop_restores_the_configuration_and_the_heal_joins_every_group() {
        let db = FakeDb::new(&[1, 2, 3]);
        let start = db.0.latest();
        let mut p = ShardMove::default();
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let (mut leaves, mut moves, mut stalls) = (0, 0, 0);
        for _ in 0..20 {
            let v = p.start(&db, &mut rng).unwrap();
            assert!(p.active());
            if let Some(st) = v.get("stalled") {
                // The group's followers are stopped, and a receiver's leader too.
                stalls += 1;
                let gid = st["gid"].as_u64().unwrap();
                let side = match st["role"].as_str().unwrap() {
                    "receiver" => "to",
                    "giver" => "from",
                    r => panic!("stall role {r}"),
                };
                assert!(involved(&v, side).contains(&gid), "{v}");
                assert_eq!(st["leader"], format!("g{gid}n2"));
                let mut expect = vec![format!("g{gid}n1"), format!("g{gid}n3")];
                if side == "to" {
                    expect.push(format!("g{gid}n2"));
                }
                assert_eq!(db.paused(), expect);
                assert_eq!(st["leader_killed"].as_bool().unwrap_or(false), side == "to");
            } else {
                assert!(db.paused().is_empty());
            }
            assert!(!v["moved"].as_array().unwrap().is_empty(), "{v}");
            assert_eq!(v["from_config"].as_u64().unwrap() + 1, v["config"]);
            match v["op"].as_str().unwrap() {
                "leave" => leaves += 1,
                "move" => moves += 1,
                op => panic!("start made a {op}"),
            }
            let back = p.stop(&db).unwrap();
            assert!(!p.active());
            assert!(
                db.paused().is_empty(),
                "a stop brings back what a stall stopped"
            );
            assert!(matches!(back["op"].as_str(), Some("join" | "move")));
            let now = db.0.latest();
            assert_eq!(
                (&now.owners, &now.joined),
                (&start.owners, &start.joined),
                "after {v} and {back}"
            );
        }
        assert!(leaves > 0 && moves > 0, "{leaves} leaves, {moves} moves");
        assert!((6..=19).contains(&stalls), "{stalls} stalls of 20");
        // A fault left in force at the end: the heal undoes it and joins all.
        p.start(&db, &mut rng).unwrap();
        assert!(p.needs_heal());
        let healed = p.heal(&db).unwrap();
        assert_eq!(healed["op"], "join");
        assert_eq!(healed["gids"], json!([1, 2, 3]));
        assert_eq!(db.0.latest().joined, vec![1, 2, 3]);
        assert!(db.paused().is_empty());
        assert!(!p.needs_heal());
    }

    #[test]
    fn a_change_with_an_unknown_outcome_is_settled_by_joining_every_group() {
        let db = FakeDb::new(&[1, 2, 3]);
        let mut p = ShardMove::default();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        *db.0.fail_next.lock().unwrap() = true;
        assert!(p.start(&db, &mut rng).is_err());
        assert!(p.active(), "an unknown outcome must be healed");
        let v = p.stop(&db).unwrap();
        assert_eq!(v["op"], "join");
        assert_eq!(v["gids"], json!([1, 2, 3]));
        assert!(!p.active() && !p.needs_heal());
    }

    #[test]
    fn an_unsharded_db_is_refused_with_the_reason() {
        let plain = crate::test_support::FakeDb::single(3, false);
        let err = ShardMove::default()
            .start(&plain, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--groups"), "{err}");
    }
}
