//! The client workers of a run (Jepsen's interpreter): `concurrency` workers,
//! each running one process's operations one at a time until the time limit
//! or a stop, recording invoke and completion in the history. After an
//! `info` the worker's process is abandoned (its operation may still take
//! effect) and the worker carries on as a fresh process with a new client.
//! Then [`final_reads`]: one read per key once the system has recovered.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::client::{Client, ClientFactory};
use crate::generator::Generator;
use crate::history::{Event, HistoryWriter};
use crate::op::{Op, Outcome};
use crate::rate::RateLimiter;
use crate::stats::Stats;

/// What the workers share.
pub struct Workers {
    pub factory: Arc<dyn ClientFactory>,
    pub generator: Arc<Mutex<Box<dyn Generator>>>,
    pub history: Arc<HistoryWriter>,
    pub stats: Arc<Stats>,
    pub rate: Option<Arc<RateLimiter>>,
    /// The next unused process number.
    pub next_process: Arc<AtomicU64>,
    /// Becomes true to stop the workers at once (Ctrl-C): operations in
    /// flight are recorded as `info` ("interrupted").
    pub stop: watch::Receiver<bool>,
}

impl Clone for Workers {
    fn clone(&self) -> Self {
        Workers {
            factory: self.factory.clone(),
            generator: self.generator.clone(),
            history: self.history.clone(),
            stats: self.stats.clone(),
            rate: self.rate.clone(),
            next_process: self.next_process.clone(),
            stop: self.stop.clone(),
        }
    }
}

impl Workers {
    fn new_process(&self) -> u64 {
        self.next_process.fetch_add(1, Ordering::Relaxed)
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Invoke one operation as `process`, recording both ends; a stop cuts
    /// the wait short and records `info`.
    async fn run_op(&mut self, client: &mut Box<dyn Client>, process: u64, op: &Op) -> Outcome {
        self.history.record(&Event::invoke(process, op));
        let began = Instant::now();
        let mut stop = self.stop.clone();
        let outcome = tokio::select! {
            o = client.invoke(op) => o,
            _ = stop.wait_for(|s| *s) => Outcome::Info { error: "interrupted".into(), node: None },
        };
        self.history.record(&Event::complete(process, op, &outcome));
        self.stats.record(&outcome, began.elapsed());
        outcome
    }

    /// Run all workers until `deadline` or a stop. Operations in flight at
    /// the deadline finish (each client call has its own deadline).
    pub async fn run(&self, concurrency: usize, deadline: tokio::time::Instant) {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let mut w = self.clone();
            tasks.spawn(async move { w.worker(deadline).await });
        }
        while let Some(r) = tasks.join_next().await {
            if let Err(e) = r {
                tracing::error!(error = %e, "client worker failed");
            }
        }
    }

    async fn worker(&mut self, deadline: tokio::time::Instant) {
        let mut process = self.new_process();
        let mut client = self.factory.open(process);
        loop {
            if self.stopped() || tokio::time::Instant::now() >= deadline {
                return;
            }
            if let Some(rate) = self.rate.clone() {
                let mut stop = self.stop.clone();
                tokio::select! {
                    _ = rate.acquire() => {}
                    _ = stop.wait_for(|s| *s) => return,
                    _ = tokio::time::sleep_until(deadline) => return,
                }
            }
            let op = self
                .generator
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .next_op();
            if let Outcome::Info { .. } = self.run_op(&mut client, process, &op).await {
                process = self.new_process();
                client = self.factory.open(process);
            }
        }
    }

    /// Write `op` until it succeeds (a fresh process after each unknown
    /// outcome), pausing `backoff` between attempts, until `deadline`.
    /// Returns whether it took effect. Used for the recovery probe.
    pub async fn until_ok(&mut self, op: &Op, deadline: Instant, backoff: Duration) -> bool {
        let mut process = self.new_process();
        let mut client = self.factory.open(process);
        while Instant::now() < deadline && !self.stopped() {
            match self.run_op(&mut client, process, op).await {
                Outcome::Ok { .. } => return true,
                Outcome::Info { .. } => {
                    process = self.new_process();
                    client = self.factory.open(process);
                }
                Outcome::Fail { .. } => {}
            }
            tokio::time::sleep(backoff).await;
        }
        false
    }

    /// One successful read of every key the generator used, each retried
    /// until `deadline`. Returns the keys that could not be read.
    pub async fn final_reads(&mut self, deadline: Instant) -> Vec<String> {
        let keys = self
            .generator
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys();
        let mut unread = Vec::new();
        for key in keys {
            let op = Op::get(key.clone());
            if !self
                .until_ok(&op, deadline, Duration::from_millis(100))
                .await
            {
                unread.push(key);
            }
        }
        unread
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::Value;

    use super::*;
    use crate::generator::{WorkloadKind, WorkloadOptions};

    /// An in-process register store whose every third write is "lost in the
    /// network": applied, but reported as unknown.
    #[derive(Default)]
    struct FakeDb {
        data: Mutex<HashMap<String, Value>>,
        calls: AtomicU64,
    }

    struct FakeClient(Arc<FakeDb>);

    #[async_trait::async_trait]
    impl Client for FakeClient {
        async fn invoke(&mut self, op: &Op) -> Outcome {
            tokio::time::sleep(Duration::from_micros(200)).await;
            let n = self.0.calls.fetch_add(1, Ordering::Relaxed);
            let mut data = self.0.data.lock().unwrap();
            let cur = data.get(&op.key).cloned().unwrap_or(Value::Null);
            let ok = |value| Outcome::Ok { value, node: None };
            let outcome = match op.f {
                crate::op::F::Get => ok(cur),
                crate::op::F::Cas => {
                    let (e, v) = op.cas_pair().unwrap();
                    if *e == cur {
                        data.insert(op.key.clone(), v.clone());
                        ok(op.value.clone())
                    } else {
                        return Outcome::Fail {
                            error: "mismatch".into(),
                            node: None,
                        };
                    }
                }
                _ => {
                    data.insert(op.key.clone(), op.value.clone());
                    ok(op.value.clone())
                }
            };
            if n % 3 == 2 && !op.is_read() {
                Outcome::Info {
                    error: "timeout".into(),
                    node: None,
                }
            } else {
                outcome
            }
        }
    }

    struct FakeFactory(Arc<FakeDb>);

    impl ClientFactory for FakeFactory {
        fn open(&self, _process: u64) -> Box<dyn Client> {
            Box::new(FakeClient(self.0.clone()))
        }
    }

    fn workers(dir: &std::path::Path) -> (Workers, watch::Sender<bool>) {
        let (tx, rx) = watch::channel(false);
        let generator = WorkloadOptions::new(WorkloadKind::Register, 9)
            .build()
            .unwrap();
        let w = Workers {
            factory: Arc::new(FakeFactory(Arc::default())),
            generator: Arc::new(Mutex::new(generator)),
            history: Arc::new(HistoryWriter::create(&dir.join("history.jsonl")).unwrap()),
            stats: Arc::default(),
            rate: None,
            next_process: Arc::new(AtomicU64::new(0)),
            stop: rx,
        };
        (w, tx)
    }

    fn lines(dir: &std::path::Path) -> Vec<Value> {
        std::fs::read_to_string(dir.join("history.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn processes_alternate_invoke_and_completion_and_move_on_after_info() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _tx) = workers(dir.path());
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        w.run(4, deadline).await;
        let unread = w.final_reads(Instant::now() + Duration::from_secs(5)).await;
        assert!(unread.is_empty());
        w.history.finish().unwrap();
        let events = lines(dir.path());
        assert!(events.len() > 20);
        let mut open: HashMap<u64, bool> = HashMap::new();
        let mut infos = 0;
        for e in &events {
            let p = e["process"].as_u64().unwrap();
            let invoking = e["type"] == "invoke";
            let was_open = open.insert(p, invoking).unwrap_or(false);
            assert_ne!(was_open, invoking, "process {p} broke alternation at {e}");
            if e["type"] == "info" {
                infos += 1;
                // The process never comes back after an info.
                assert!(
                    !events
                        .iter()
                        .any(|later| later["index"].as_u64() > e["index"].as_u64()
                            && later["process"].as_u64() == Some(p))
                );
            }
        }
        assert!(infos > 0);
        let c = w.stats.counts();
        assert_eq!(c.total() * 2, events.len() as u64);
        // The last events are final reads, all ok.
        let last = events.last().unwrap();
        assert_eq!(
            (last["f"].as_str(), last["type"].as_str()),
            (Some("get"), Some("ok"))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stop_ends_the_workers_before_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let (w, tx) = workers(dir.path());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
        let run = tokio::spawn(async move { w.run(3, deadline).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .expect("workers stopped")
            .unwrap();
    }
}
