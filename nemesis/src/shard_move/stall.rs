//! The stalls of `shard-move`: which group taking part in a change a fault
//! also stalls ([`Stall`]: none, a receiver, a giver; drawn with even odds),
//! making the stall (a receiver's followers and then its leader killed, a
//! giver's followers paused) and undoing it at the stop.

use std::time::{Duration, Instant};

use faultline_workloads::{Db, ShardControl};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::ShardMove;
use crate::error::NemesisError;

/// How long a stall waits for the receiver's leader to take the new
/// configuration before it gives up (and stalls nothing).
const STALL_WAIT: Duration = Duration::from_secs(3);
/// A stalled receiver's leader is killed this long after its followers:
/// time for its leader duty (every 50 ms) to pull the arriving shards.
const PULL_TIME: Duration = Duration::from_millis(150);
/// At the stop, how long the followers of a stalled receiver get to elect
/// a leader before the old leader is restarted anyway.
const ELECTION_WAIT: Duration = Duration::from_secs(3);

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

    pub(super) fn name(self) -> &'static str {
        match self {
            Stall::None => "none",
            Stall::Receiver => "receiver",
            Stall::Giver => "giver",
        }
    }
}

/// The groups on one side (`"to"`: gaining, `"from"`: losing shards) of a
/// change's description (`moved[]`), ascending, without gid 0.
pub(super) fn involved(value: &Value, side: &str) -> Vec<u64> {
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
    /// Stall group `gid` once its leader has applied configuration
    /// `at_least` (at once when `None`): pause every other member. What was
    /// done, for the history.
    pub(super) fn stall(
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
    pub(super) fn unstall(&mut self, db: &dyn Db) -> Result<(), NemesisError> {
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
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

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
}
