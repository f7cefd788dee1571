//! `membership`: Raft membership changes of the system's replica group
//! (`Db::membership`). Each fault is drawn from the seeded RNG:
//! - **remove** a random member (the leader too, when drawn), if more than
//!   two remain;
//! - **add** a fresh member (a new node: new name, empty data directory, in
//!   its own namespace when nodes have one), which catches up and votes;
//! - **replace** a member: remove a random one, then add a fresh one.
//!
//! A removed member's process keeps running: it must refuse clients and not
//! campaign. Stopping the fault restores the group's original size: fresh
//! members are added while it is smaller, and members added by this
//! package are removed (newest first) while it is larger. The history
//! records every change with the node names and the members after it.

#[cfg(test)]
mod tests;

use faultline_workloads::{Db, MembershipControl};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};

/// One membership fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Remove,
    Add,
    Replace,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Remove => "remove",
            Action::Add => "add",
            Action::Replace => "replace",
        }
    }

    /// Draw an action for a group of `members` voters: no removal that
    /// would leave fewer than two.
    pub fn draw(rng: &mut ChaCha8Rng, members: usize) -> Action {
        let action = match rng.random_range(0..3) {
            0 => Action::Remove,
            1 => Action::Add,
            _ => Action::Replace,
        };
        if action == Action::Remove && members <= 2 {
            Action::Add
        } else {
            action
        }
    }
}

#[derive(Debug, Default)]
pub struct Membership {
    /// The group's size before the first fault; every stop restores it.
    original: Option<usize>,
    /// Members this package added, oldest first (removed first at a stop
    /// that must shrink the group, newest first).
    added: Vec<String>,
    /// Whether a fault is in force (started and not yet stopped).
    in_force: bool,
}

fn control(db: &dyn Db) -> Result<&dyn MembershipControl, NemesisError> {
    db.membership().ok_or_else(|| {
        NemesisError::Option(format!(
            "membership needs a system that can add and remove members ({} cannot); use the faultline KV group (--db faultline without --groups)",
            db.describe()
        ))
    })
}

impl Membership {
    /// Name, plot colour and needs of this package.
    pub const INFO: PackageInfo = PackageInfo {
        name: "membership",
        colour: "#008b8b",
        needs_network: false,
        needs_shards: false,
    };

    fn add(&mut self, m: &dyn MembershipControl) -> Result<String, NemesisError> {
        let node = m.add_fresh()?;
        self.added.push(node.clone());
        Ok(node)
    }
}

impl Package for Membership {
    fn info(&self) -> PackageInfo {
        Self::INFO
    }

    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError> {
        let m = control(db)?;
        let members = m.members();
        if members.is_empty() {
            return Err(NemesisError::Option(
                "membership: the group reports no members".into(),
            ));
        }
        let original = *self.original.get_or_insert(members.len());
        let action = Action::draw(rng, members.len());
        self.in_force = true;
        let mut value = json!({"action": action.name()});
        match action {
            Action::Remove | Action::Replace => {
                let node = members[rng.random_range(0..members.len())].clone();
                m.remove(&node)?;
                self.added.retain(|a| *a != node);
                value["removed"] = json!(node);
                if action == Action::Replace {
                    value["added"] = json!(self.add(m)?);
                }
            }
            Action::Add => value["added"] = json!(self.add(m)?),
        }
        value["members"] = json!(m.members());
        value["original_size"] = json!(original);
        Ok(value)
    }

    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        let m = control(db)?;
        let Some(original) = self.original else {
            self.in_force = false;
            return Ok(json!({"members": m.members()}));
        };
        let (mut added, mut removed) = (Vec::new(), Vec::new());
        while m.members().len() < original {
            added.push(self.add(m)?);
        }
        while m.members().len() > original {
            let members = m.members();
            let node = self
                .added
                .iter()
                .rev()
                .find(|a| members.contains(a))
                .cloned()
                .or_else(|| members.last().cloned())
                .ok_or_else(|| NemesisError::Option("the group has no members".into()))?;
            m.remove(&node)?;
            self.added.retain(|a| *a != node);
            removed.push(node);
        }
        self.in_force = false;
        Ok(json!({"added": added, "removed": removed, "members": m.members()}))
    }

    fn active(&self) -> bool {
        self.in_force
    }
}
