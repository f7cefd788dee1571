//! Helpers shared by the kv_* process-level tests: start a loopback group of
//! real kvnode processes in a temporary run folder, make clients, run ops.

#![allow(dead_code)]

use std::time::Duration;

use faultline_harness::{Harness, LoopbackHarness, LoopbackOptions};
use faultline_kvnode::client::{ClientOptions, KvClient, Outcome, fresh_client_id};
use faultline_kvnode::kv::{Op, Reply};
use tempfile::TempDir;

pub const LEADER_WAIT: Duration = Duration::from_secs(10);

/// A group and its run folder (removed after the harness is dropped).
pub struct Group {
    pub h: LoopbackHarness,
    pub dir: TempDir,
}

pub fn start(nodes: usize, extra_args: &[&str], bugs: &[&str]) -> Group {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = LoopbackOptions::new(nodes, dir.path());
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    opts.extra_args = extra_args.iter().map(|s| s.to_string()).collect();
    opts.bugs = bugs.iter().map(|s| s.to_string()).collect();
    let h = LoopbackHarness::start(opts).expect("start group");
    Group { h, dir }
}

impl Group {
    pub fn client(&self) -> KvClient {
        self.client_with(ClientOptions::default())
    }

    pub fn client_with(&self, opts: ClientOptions) -> KvClient {
        KvClient::new(fresh_client_id(), &self.h.addresses(), opts)
    }

    pub async fn leader(&self) -> u64 {
        self.h.wait_for_leader(LEADER_WAIT).await.expect("a leader")
    }

    /// Print every node's log (for failing tests).
    pub fn dump_logs(&self) {
        for id in self.h.node_ids() {
            eprintln!("===== node {id} =====\n{}", self.h.read_log(id));
        }
    }
}

pub fn put(key: &str, value: &str) -> Op {
    Op::Put {
        key: key.into(),
        value: value.into(),
    }
}

pub fn get(key: &str) -> Op {
    Op::Get { key: key.into() }
}

pub fn append(key: &str, value: &str) -> Op {
    Op::Append {
        key: key.into(),
        value: value.into(),
    }
}

pub fn cas(key: &str, expected: Option<&str>, new: &str) -> Op {
    Op::Cas {
        key: key.into(),
        expected: expected.map(String::from),
        new: new.into(),
    }
}

/// Run `op` and insist it succeeded.
pub async fn ok(client: &mut KvClient, op: Op) -> Reply {
    match client.execute(op.clone()).await {
        Outcome::Ok { reply, .. } => reply,
        other => panic!("{op:?} did not succeed: {other:?}"),
    }
}

/// The value of `key`, insisting the read succeeded.
pub async fn read(client: &mut KvClient, key: &str) -> Option<String> {
    match ok(client, get(key)).await {
        Reply::Value(v) => v,
        other => panic!("get returned {other:?}"),
    }
}

/// The WAL segment files of a data directory, oldest first.
pub fn wal_segments(data_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut segs: Vec<_> = std::fs::read_dir(data_dir.join("wal"))
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    segs.retain(|p| p.extension().is_some_and(|x| x == "log"));
    segs.sort();
    segs
}

/// Wait until node `id` reports `applied >= index`.
pub async fn wait_applied(g: &Group, id: u64, index: u64, timeout: Duration) -> bool {
    let until = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < until {
        if let Ok(s) = g.h.status(id, Duration::from_millis(300)).await
            && s.applied >= index
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
