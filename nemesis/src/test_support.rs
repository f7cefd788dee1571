//! Fakes for the packages' unit tests: [`FakeNet`], network controls that
//! only record what they were asked (cuts, loss, clock offsets and strobes),
//! and [`FakeDb`], a system of one or more replica groups with fixed leaders
//! whose kill/restart/pause/resume do nothing (power losses are recorded), on a [`FakeNet`] or on
//! loopback (no network controls).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use faultline_workloads::{Db, NetControl, NodeState, WorkloadError};

/// Network controls of `nodes` nodes that record every request.
#[derive(Default)]
pub struct FakeNet {
    pub nodes: usize,
    pub cuts: Mutex<Vec<(String, String)>>,
    pub loss: Mutex<Option<f64>>,
    pub clocks: Mutex<BTreeMap<String, i64>>,
    pub strobes: Mutex<Vec<String>>,
    /// (node, rate %) of every drift asked for.
    pub drifts: Mutex<Vec<(String, u32)>>,
}

impl FakeNet {
    pub fn new(nodes: usize) -> FakeNet {
        FakeNet {
            nodes,
            ..FakeNet::default()
        }
    }
}

impl NetControl for FakeNet {
    fn cut(&self, pairs: &[(String, String)]) -> Result<usize, WorkloadError> {
        self.cuts.lock().unwrap().extend(pairs.iter().cloned());
        Ok(pairs.len())
    }
    fn heal_cuts(&self) -> Result<usize, WorkloadError> {
        Ok(std::mem::take(&mut *self.cuts.lock().unwrap()).len())
    }
    fn set_loss(&self, p: f64) -> Result<usize, WorkloadError> {
        *self.loss.lock().unwrap() = Some(p);
        Ok(self.nodes * (self.nodes - 1))
    }
    fn heal_loss(&self) -> Result<usize, WorkloadError> {
        let had = self.loss.lock().unwrap().take().is_some();
        Ok(if had {
            self.nodes * (self.nodes - 1)
        } else {
            0
        })
    }
    fn set_clock(&self, node: &str, ms: i64) -> Result<(), WorkloadError> {
        self.clocks.lock().unwrap().insert(node.into(), ms);
        Ok(())
    }
    fn clock(&self, node: &str) -> Result<i64, WorkloadError> {
        Ok(self.clocks.lock().unwrap().get(node).copied().unwrap_or(0))
    }
    fn strobe_clock(
        &self,
        node: &str,
        (a, _): (i64, i64),
        _period: Duration,
        _duration: Duration,
    ) -> Result<(), WorkloadError> {
        self.strobes.lock().unwrap().push(node.into());
        self.set_clock(node, a)
    }
    fn drift_clock(
        &self,
        node: &str,
        rate_pct: u32,
        _duration: Duration,
    ) -> Result<(), WorkloadError> {
        self.drifts.lock().unwrap().push((node.into(), rate_pct));
        Ok(())
    }
    fn reset_clocks(&self) -> Result<(), WorkloadError> {
        self.clocks.lock().unwrap().clear();
        self.drifts.lock().unwrap().clear();
        self.strobes.lock().unwrap().clear();
        Ok(())
    }
}

/// The status `node` answers in a group led by `leader`.
pub fn node_state(node: &str, leader: &str) -> NodeState {
    NodeState {
        node: node.into(),
        role: if node == leader { "leader" } else { "follower" }.into(),
        term: 1,
        leader: Some(leader.into()),
        applied: 0,
    }
}

/// Replica groups with one fixed leader each; `net: None` is a loopback
/// system.
pub struct FakeDb {
    pub groups: Vec<Vec<String>>,
    pub leaders: Vec<String>,
    pub net: Option<FakeNet>,
    /// Whether `lose_unsynced` works (it records the node and tear flag).
    pub disk_faults: bool,
    pub lost: Mutex<Vec<(String, bool)>>,
}

impl FakeDb {
    /// One group, nodes "1".."n", node "2" the leader; on a [`FakeNet`]
    /// when `net`.
    pub fn single(n: usize, net: bool) -> FakeDb {
        FakeDb {
            groups: vec![(1..=n).map(|i| i.to_string()).collect()],
            leaders: vec!["2".into()],
            net: net.then(|| FakeNet::new(n)),
            disk_faults: true,
            lost: Mutex::new(Vec::new()),
        }
    }

    /// A group of three per prefix, `{prefix}1..{prefix}3` in the order
    /// given, led by `leaders` (one per group); on a [`FakeNet`] of all of
    /// them when `net`.
    pub fn grouped(prefixes: &[&str], leaders: &[&str], net: bool) -> FakeDb {
        let groups: Vec<Vec<String>> = prefixes
            .iter()
            .map(|g| (1..=3).map(|i| format!("{g}{i}")).collect())
            .collect();
        let n = groups.iter().map(Vec::len).sum();
        FakeDb {
            groups,
            leaders: leaders.iter().map(|l| l.to_string()).collect(),
            net: net.then(|| FakeNet::new(n)),
            disk_faults: true,
            lost: Mutex::new(Vec::new()),
        }
    }
}

/// The lifecycle methods of a fake `Db` (nothing to start or stop).
macro_rules! fake_lifecycle {
    () => {
        fn setup(&self) -> Result<(), faultline_workloads::WorkloadError> {
            Ok(())
        }
        fn teardown(&self) -> Result<(), faultline_workloads::WorkloadError> {
            Ok(())
        }
        fn log_files(&self) -> Vec<(String, std::path::PathBuf)> {
            Vec::new()
        }
        fn processes(&self) -> Vec<faultline_workloads::NodeProcess> {
            Vec::new()
        }
        fn describe(&self) -> String {
            "a fake".to_string()
        }
    };
}
pub(crate) use fake_lifecycle;

impl Db for FakeDb {
    fake_lifecycle!();
    fn nodes(&self) -> Vec<String> {
        self.groups.concat()
    }
    fn groups(&self) -> Vec<Vec<String>> {
        self.groups.clone()
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
        let leader = self
            .groups
            .iter()
            .position(|g| g.iter().any(|m| m == node))
            .and_then(|i| self.leaders.get(i))
            .ok_or_else(|| WorkloadError::Db(format!("no node {node}")))?;
        Ok(node_state(node, leader))
    }
    fn network(&self) -> Option<&dyn NetControl> {
        self.net.as_ref().map(|n| n as &dyn NetControl)
    }
    fn lose_unsynced(&self, node: &str, tear: bool) -> Result<serde_json::Value, WorkloadError> {
        if !self.disk_faults {
            return Err(WorkloadError::Db("no disk faults in this fake".into()));
        }
        self.lost.lock().unwrap().push((node.to_string(), tear));
        Ok(serde_json::json!({"files": 1, "bytes": 10}))
    }
}
