//! The runner is a library over `Db` / `Client` trait objects: a system it
//! has never heard of (here an in-process register store, whole in this
//! file, with an optional planted stale read) runs through `run_test` and
//! gets the same run folder as a registered one: test.json, history,
//! results.json with the composed checkers, the report. The correct store
//! is valid; the stale one is caught.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use faultline_checker::Verdict;
use faultline_runner::{
    Plan, RunOptions, RunnerError, SystemContext, SystemKind, SystemUnderTest, Uninterrupted,
    plan_with, run_test,
};
use faultline_workloads::{
    Client, ClientFactory, Db, F, NodeProcess, NodeState, Op, Outcome, WorkloadError,
};
use serde_json::Value;

/// The store: each key's current value, and the value before it.
#[derive(Default)]
struct Store {
    values: Mutex<BTreeMap<String, (Value, Value)>>,
}

#[derive(Debug)]
struct Toy {
    stale_reads: bool,
}

struct ToyDb {
    store: Arc<Store>,
    stale_reads: bool,
}

struct ToyClient {
    store: Arc<Store>,
    stale_reads: bool,
}

impl SystemKind for Toy {
    fn name(&self) -> &'static str {
        "toy"
    }
    fn about(&self) -> &'static str {
        "an in-process register store"
    }
    fn validate(&self, plan: &Plan) -> Result<(), RunnerError> {
        if plan.workload != "register" {
            return Err(RunnerError::Options("toy: register only".into()));
        }
        Ok(())
    }
    fn test_name_prefix(&self, _plan: &Plan) -> String {
        "toy-".into()
    }
    fn replay_flags(&self, _plan: &Plan) -> String {
        String::new()
    }
    fn build(&self, _ctx: &SystemContext) -> Result<Box<dyn SystemUnderTest>, RunnerError> {
        Ok(Box::new(ToyDb {
            store: Arc::default(),
            stale_reads: self.stale_reads,
        }))
    }
}

impl Db for ToyDb {
    fn setup(&self) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn teardown(&self) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn log_files(&self) -> Vec<(String, PathBuf)> {
        Vec::new()
    }
    fn processes(&self) -> Vec<NodeProcess> {
        Vec::new()
    }
    fn describe(&self) -> String {
        "one in-process store".into()
    }
    fn nodes(&self) -> Vec<String> {
        vec!["a".into()]
    }
    fn kill(&self, _node: &str) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn restart(&self, _node: &str) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn pause(&self, _node: &str) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn resume(&self, _node: &str) -> Result<(), WorkloadError> {
        Ok(())
    }
    fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
        Ok(NodeState {
            node: node.into(),
            role: "leader".into(),
            term: 1,
            leader: Some(node.into()),
            applied: 0,
        })
    }
}

impl SystemUnderTest for ToyDb {
    fn clients(&self) -> Result<Arc<dyn ClientFactory>, RunnerError> {
        Ok(Arc::new(ToyFactory(self.store.clone(), self.stale_reads)))
    }
}

struct ToyFactory(Arc<Store>, bool);

impl ClientFactory for ToyFactory {
    fn open(&self, _process: u64) -> Box<dyn Client> {
        Box::new(ToyClient {
            store: self.0.clone(),
            stale_reads: self.1,
        })
    }
}

#[async_trait]
impl Client for ToyClient {
    async fn invoke(&mut self, op: &Op) -> Outcome {
        tokio::time::sleep(std::time::Duration::from_micros(300)).await;
        let mut values = self.store.values.lock().unwrap();
        let slot = values
            .entry(op.key.clone())
            .or_insert((Value::Null, Value::Null));
        let ok = |value| Outcome::Ok { value, node: None };
        match op.f {
            // The planted bug: reads answer the value before the last write.
            F::Get if self.stale_reads => ok(slot.1.clone()),
            F::Get => ok(slot.0.clone()),
            F::Cas => {
                let (expected, new) = op.cas_pair().unwrap();
                if *expected == slot.0 {
                    *slot = (new.clone(), slot.0.clone());
                    ok(op.value.clone())
                } else {
                    Outcome::Fail {
                        error: "cas: the value differed".into(),
                        node: None,
                    }
                }
            }
            F::Put | F::Append => {
                *slot = (op.value.clone(), slot.0.clone());
                ok(op.value.clone())
            }
        }
    }
}

fn options(store: PathBuf) -> RunOptions {
    RunOptions {
        db: "toy".into(),
        workload: "register".into(),
        nemesis: "none".into(),
        time_limit: 2,
        concurrency: 4,
        groups: None,
        replicas: 1,
        bug: None,
        seed: Some(7),
        test_count: 1,
        store,
        rate: None,
        keys: None,
        ops_per_key: None,
        nemesis_interval: 1.0,
        name: None,
        check_timeout: 30.0,
        no_netns: true,
        etcd_serializable_reads: false,
        attempt_timeout_ms: 250,
        system_file: None,
        hosts: None,
        read_mode: "read-index".into(),
        clock_drift: None,
    }
}

static CORRECT: Toy = Toy { stale_reads: false };
static STALE: Toy = Toy { stale_reads: true };

#[test]
fn an_unregistered_system_runs_through_the_library_and_a_stale_read_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path().join("store"));

    let good = run_test(&plan_with(&opts, &CORRECT).unwrap(), &Uninterrupted).unwrap();
    let results = good.results.as_ref().expect("results");
    assert_eq!(good.verdict(), Verdict::Valid, "{results:?}");
    assert!(results.ops.ok > 100, "{:?}", results.ops);
    assert_eq!(
        results.checkers.keys().collect::<Vec<_>>(),
        ["linearizable", "stats"]
    );
    assert!(results.final_reads.recovered);
    for f in [
        "test.json",
        "history.jsonl",
        "results.json",
        "index.html",
        "history.csv",
    ] {
        assert!(good.run_dir.join(f).is_file(), "{f} in {:?}", good.run_dir);
    }
    let test: Value =
        serde_json::from_str(&std::fs::read_to_string(good.run_dir.join("test.json")).unwrap())
            .unwrap();
    assert_eq!(test["system"], "one in-process store");
    assert_eq!(test["options"]["db"], "toy");

    let bad = run_test(&plan_with(&opts, &STALE).unwrap(), &Uninterrupted).unwrap();
    assert_eq!(bad.verdict(), Verdict::Invalid);
    let lin = &bad.results.as_ref().unwrap().checkers["linearizable"];
    assert!(lin.counterexample.is_some(), "{lin:?}");
}

#[test]
fn the_system_refuses_what_it_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path().join("store"));
    opts.workload = "append".into();
    let e = plan_with(&opts, &CORRECT).unwrap_err().to_string();
    assert!(e.contains("register only"), "{e}");
}
