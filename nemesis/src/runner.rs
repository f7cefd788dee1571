//! Applying a schedule: the nemesis thread sleeps until each action, starts
//! or stops the package's fault, and records both ends in the history
//! (`invoke` then `ok`, or `info` with the error when the fault could not be
//! applied). [`Nemesis::heal_all`] stops every fault still in force, also
//! after a Ctrl-C. The faults now in force are shared for progress display.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use faultline_workloads::Db;
use faultline_workloads::history::{Event, HistoryWriter};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::Value;

use crate::package::Package;
use crate::schedule::{ActionKind, Schedule};
use faultline_workloads::StopFlag;

/// What the nemesis did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NemesisReport {
    /// Faults started (successfully) per package, every package listed.
    pub counts: BTreeMap<String, u64>,
    /// Actions that failed, as "start-kill: error".
    pub errors: Vec<String>,
}

pub struct Nemesis {
    packages: Vec<Box<dyn Package>>,
    rngs: Vec<ChaCha8Rng>,
    schedule: Schedule,
    active: Arc<Mutex<Vec<String>>>,
    report: NemesisReport,
}

impl Nemesis {
    /// `schedule` indexes `packages`; each package draws its targets from its
    /// own RNG derived from `seed`.
    pub fn new(packages: Vec<Box<dyn Package>>, schedule: Schedule, seed: u64) -> Nemesis {
        let rngs = (0..packages.len() as u64)
            .map(|i| ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x7461_7267_6574 * (i + 1))))
            .collect();
        let report = NemesisReport {
            counts: packages.iter().map(|p| (p.name().to_string(), 0)).collect(),
            errors: Vec::new(),
        };
        Nemesis {
            packages,
            rngs,
            schedule,
            active: Arc::default(),
            report,
        }
    }

    /// The names of the faults in force now (for progress lines).
    pub fn active_faults(&self) -> Arc<Mutex<Vec<String>>> {
        self.active.clone()
    }

    /// Package names and colours, for the report and test.json.
    pub fn packages(&self) -> Vec<(&'static str, &'static str)> {
        self.packages
            .iter()
            .map(|p| (p.name(), p.colour()))
            .collect()
    }

    pub fn report(&self) -> &NemesisReport {
        &self.report
    }

    fn refresh_active(&self) {
        let names = self
            .packages
            .iter()
            .filter(|p| p.active())
            .map(|p| p.name().to_string())
            .collect();
        *self.active.lock().unwrap_or_else(|p| p.into_inner()) = names;
    }

    fn apply(&mut self, i: usize, kind: ActionKind, db: &dyn Db, history: &HistoryWriter) {
        self.apply_as(i, kind, false, db, history);
    }

    /// Start or stop package `i` (`heal`: its final heal, recorded as a stop).
    fn apply_as(
        &mut self,
        i: usize,
        kind: ActionKind,
        heal: bool,
        db: &dyn Db,
        history: &HistoryWriter,
    ) {
        let name = self.packages[i].name();
        let f = match kind {
            ActionKind::Start => format!("start-{name}"),
            ActionKind::Stop => format!("stop-{name}"),
        };
        history.record(&Event::nemesis("invoke", f.clone(), Value::Null));
        let result = match kind {
            ActionKind::Start => self.packages[i].start(db, &mut self.rngs[i]),
            ActionKind::Stop if heal => self.packages[i].heal(db),
            ActionKind::Stop => self.packages[i].stop(db),
        };
        match result {
            Ok(value) => {
                tracing::info!(action = %f, %value, "nemesis");
                if kind == ActionKind::Start {
                    *self.report.counts.entry(name.to_string()).or_default() += 1;
                }
                history.record(&Event::nemesis("ok", f, value));
            }
            Err(e) => {
                tracing::warn!(action = %f, error = %e, "nemesis action failed");
                self.report.errors.push(format!("{f}: {e}"));
                let mut event = Event::nemesis("info", f, Value::Null);
                event.error = Some(e.to_string());
                history.record(&event);
            }
        }
        self.refresh_active();
    }

    /// Run the schedule (times relative to the history's time 0) until it is
    /// done or `stop` is set. Faults are left in force: call
    /// [`heal_all`](Self::heal_all) after.
    pub fn run(&mut self, db: &dyn Db, history: &HistoryWriter, stop: &StopFlag) {
        let t0: Instant = history.start();
        let actions = self.schedule.actions.clone();
        for action in actions {
            if !stop.sleep_until(t0 + action.at) {
                return;
            }
            // A stop for a fault that never started (its start failed) is skipped.
            if action.kind == ActionKind::Stop && !self.packages[action.package].active() {
                continue;
            }
            self.apply(action.package, action.kind, db, history);
        }
    }

    /// Stop every fault still in force (and whatever else a package heals
    /// at the end, e.g. shard-move joins every group), recording each.
    pub fn heal_all(&mut self, db: &dyn Db, history: &HistoryWriter) {
        for i in 0..self.packages.len() {
            if self.packages[i].needs_heal() {
                self.apply_as(i, ActionKind::Stop, true, db, history);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::time::Duration;

    use faultline_workloads::{NodeState, WorkloadError};

    use super::*;
    use crate::registry::parse_packages;
    use crate::schedule::ScheduleOptions;
    use crate::test_support::node_state;

    /// Three fake nodes; records every call.
    #[derive(Default)]
    struct FakeDb {
        calls: StdMutex<Vec<String>>,
        down: StdMutex<Vec<String>>,
    }

    impl Db for FakeDb {
        crate::test_support::fake_lifecycle!();
        fn nodes(&self) -> Vec<String> {
            vec!["1".into(), "2".into(), "3".into()]
        }
        fn kill(&self, node: &str) -> Result<(), WorkloadError> {
            self.calls.lock().unwrap().push(format!("kill {node}"));
            self.down.lock().unwrap().push(node.into());
            Ok(())
        }
        fn restart(&self, node: &str) -> Result<(), WorkloadError> {
            self.calls.lock().unwrap().push(format!("restart {node}"));
            self.down.lock().unwrap().retain(|n| n != node);
            Ok(())
        }
        fn pause(&self, node: &str) -> Result<(), WorkloadError> {
            if self.down.lock().unwrap().iter().any(|n| n == node) {
                return Err(WorkloadError::Db(format!("node {node} is not running")));
            }
            self.calls.lock().unwrap().push(format!("pause {node}"));
            Ok(())
        }
        fn resume(&self, node: &str) -> Result<(), WorkloadError> {
            self.calls.lock().unwrap().push(format!("resume {node}"));
            Ok(())
        }
        fn status(&self, node: &str) -> Result<NodeState, WorkloadError> {
            Ok(node_state(node, "2"))
        }
    }

    #[test]
    fn runs_the_schedule_records_every_action_and_heals_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let history = HistoryWriter::create(&dir.path().join("h.jsonl")).unwrap();
        let packages = parse_packages("kill,pause").unwrap();
        let schedule = Schedule::new(&ScheduleOptions {
            seed: 11,
            packages: 2,
            interval: Duration::from_millis(100),
            time_limit: Duration::from_millis(480),
        })
        .unwrap();
        let expected_starts = schedule.starts(0) as u64;
        let mut nemesis = Nemesis::new(packages, schedule, 11);
        let db = FakeDb::default();
        nemesis.run(&db, &history, &StopFlag::new());
        nemesis.heal_all(&db, &history);
        history.finish().unwrap();
        assert_eq!(nemesis.report().counts["kill"], expected_starts);
        assert!(nemesis.active_faults().lock().unwrap().is_empty());
        let events: Vec<Value> = std::fs::read_to_string(dir.path().join("h.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Every invoke is followed by its completion, starts and stops pair up.
        let mut open: BTreeMap<String, i32> = BTreeMap::new();
        for pair in events.chunks(2) {
            assert_eq!(pair[0]["type"], "invoke");
            assert_eq!(pair[0]["f"], pair[1]["f"]);
            assert!(pair[1]["type"] == "ok" || pair[1]["type"] == "info");
            let f = pair[0]["f"].as_str().unwrap();
            if pair[1]["type"] == "ok" {
                let (kind, delta) = match f.split_once('-').unwrap() {
                    ("start", k) => (k, 1),
                    (_, k) => (k, -1),
                };
                let n = open.entry(kind.to_string()).or_default();
                *n += delta;
                assert!((0..=1).contains(n), "{f}");
            }
        }
        assert!(open.values().all(|&n| n == 0), "unhealed: {open:?}");
        // Every killed node was restarted.
        assert!(db.down.lock().unwrap().is_empty());
        let calls = db.calls.lock().unwrap();
        assert!(calls.iter().any(|c| c.starts_with("kill")));
        assert!(calls.iter().any(|c| c.starts_with("restart")));
    }

    #[test]
    fn a_stop_ends_the_run_early() {
        let dir = tempfile::tempdir().unwrap();
        let history = HistoryWriter::create(&dir.path().join("h.jsonl")).unwrap();
        let schedule = Schedule::new(&ScheduleOptions {
            seed: 1,
            packages: 1,
            interval: Duration::from_secs(10),
            time_limit: Duration::from_secs(3600),
        })
        .unwrap();
        let mut nemesis = Nemesis::new(parse_packages("kill").unwrap(), schedule, 1);
        let stop = StopFlag::new();
        stop.stop();
        nemesis.run(&FakeDb::default(), &history, &stop);
        assert!(history.is_empty());
    }
}
