//! The membership package against a fake group: every fault changes the
//! members as drawn, and every stop restores the original size.

use std::sync::Mutex;

use faultline_workloads::{Db, MembershipControl, NodeState, WorkloadError};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::test_support::{fake_lifecycle, node_state};

/// A group whose members are names in a list; fresh ones are numbered on.
struct FakeGroup {
    members: Mutex<Vec<String>>,
    next: Mutex<u32>,
}

impl FakeGroup {
    fn new(n: u32) -> FakeGroup {
        FakeGroup {
            members: Mutex::new((1..=n).map(|i| i.to_string()).collect()),
            next: Mutex::new(n + 1),
        }
    }
}

impl MembershipControl for FakeGroup {
    fn members(&self) -> Vec<String> {
        self.members.lock().unwrap().clone()
    }
    fn add_fresh(&self) -> Result<String, WorkloadError> {
        let mut next = self.next.lock().unwrap();
        let name = next.to_string();
        *next += 1;
        self.members.lock().unwrap().push(name.clone());
        Ok(name)
    }
    fn remove(&self, node: &str) -> Result<(), WorkloadError> {
        self.members.lock().unwrap().retain(|m| m != node);
        Ok(())
    }
}

impl Db for FakeGroup {
    fake_lifecycle!();
    fn nodes(&self) -> Vec<String> {
        self.members()
    }
    fn kill(&self, _: &str) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn restart(&self, _: &str) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn pause(&self, _: &str) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn resume(&self, _: &str) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        Ok(node_state(node, "1"))
    }
    fn membership(&self) -> Option<&dyn MembershipControl> {
        Some(self)
    }
}

#[test]
fn every_fault_is_recorded_and_every_stop_restores_the_original_size() {
    let db = FakeGroup::new(3);
    let mut p = Membership::default();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let v = p.start(&db, &mut rng).unwrap();
        assert!(p.active());
        let action = v["action"].as_str().unwrap().to_string();
        let members = db.members();
        match action.as_str() {
            "remove" => assert_eq!(members.len(), 2, "{v}"),
            "add" => assert_eq!(members.len(), 4, "{v}"),
            "replace" => {
                assert_eq!(members.len(), 3, "{v}");
                assert!(!members.contains(&v["removed"].as_str().unwrap().to_string()));
                assert!(members.contains(&v["added"].as_str().unwrap().to_string()));
            }
            other => panic!("unknown action {other}"),
        }
        assert_eq!(v["members"], serde_json::json!(members));
        seen.insert(action);
        let healed = p.stop(&db).unwrap();
        assert!(!p.active());
        assert_eq!(db.members().len(), 3, "{healed}");
    }
    assert_eq!(seen.len(), 3, "every action drawn: {seen:?}");
}

#[test]
fn a_system_without_membership_changes_is_refused_with_the_way_out() {
    let db = crate::test_support::FakeDb::single(3, false);
    let err = Membership::default()
        .start(&db, &mut ChaCha8Rng::seed_from_u64(1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("--db faultline"), "{err}");
}
