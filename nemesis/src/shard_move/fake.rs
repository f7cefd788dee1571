//! Fakes for the `shard-move` tests: [`FakeCtl`], an in-memory shard
//! controller, and [`FakeDb`], a sharded system on it whose kill / pause
//! only mark a node stopped (and whose leaders are members not stopped).

use std::sync::Mutex;

use faultline_workloads::{Db, NodeState, ShardControl, ShardLayout, WorkloadError};

/// A configuration `num` with these shard owners and joined groups.
pub(super) fn layout(num: u64, owners: &[u64], joined: &[u64]) -> ShardLayout {
    ShardLayout {
        num,
        owners: owners.to_vec(),
        joined: joined.to_vec(),
    }
}

/// An in-memory controller: Join/Leave rebalance round-robin over the
/// joined groups, Move moves; every configuration is kept.
pub(super) struct FakeCtl {
    groups: Vec<u64>,
    configs: Mutex<Vec<ShardLayout>>,
    /// Fail the next change (an unknown outcome).
    pub(super) fail_next: Mutex<bool>,
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

    pub(super) fn latest(&self) -> ShardLayout {
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

pub(super) struct FakeDb(pub(super) FakeCtl, Mutex<Vec<String>>);

impl FakeDb {
    pub(super) fn new(groups: &[u64]) -> FakeDb {
        FakeDb(FakeCtl::new(groups), Mutex::default())
    }
    pub(super) fn paused(&self) -> Vec<String> {
        self.1.lock().unwrap().clone()
    }
}

impl Db for FakeDb {
    crate::test_support::fake_lifecycle!();
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
