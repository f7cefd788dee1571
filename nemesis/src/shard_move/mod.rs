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
//!
//! Parts: `change` (the changes, their seeded draw, undo and description),
//! `stall` (which group a fault stalls and how, and the way back); this
//! module holds the package's state and its start / stop / heal.

mod change;
#[cfg(test)]
mod fake;
mod stall;
#[cfg(test)]
mod tests;

pub use change::{Change, draw_change, moved, undo};
pub use stall::Stall;

use faultline_workloads::{Db, ShardControl};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};
use stall::involved;

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

    /// Join every group of the deployment (one change).
    fn join_all(&mut self, ctl: &dyn ShardControl) -> Result<Value, NemesisError> {
        let all = Change::Join(ctl.groups());
        let value = self.make(ctl, &all)?;
        self.unsettled = false;
        self.changed = false;
        Ok(value)
    }

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
