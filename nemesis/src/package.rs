//! A nemesis package: one kind of fault with its [`PackageInfo`] (name,
//! plot colour, what the system must offer for it), the way to start it
//! (choosing targets with a seeded RNG), stop it, and heal whatever of it is
//! still in force at the end of a run. The history records a package's
//! faults as `start-<name>` / `stop-<name>`; the report shades them in the
//! package's colour.

use faultline_workloads::Db;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::error::NemesisError;

/// What is known of a package without building it: each package type has
/// one as `INFO`, and [`crate::registry::info`] finds it by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageInfo {
    /// The fault kind (`kill`, `pause`, `partition`, ...), as in
    /// `--nemesis` and the history's `start-<name>` / `stop-<name>`.
    pub name: &'static str,
    /// Plot colour (CSS `#rrggbb`), distinct for every package; written to
    /// test.json for the reports.
    pub colour: &'static str,
    /// Whether the fault acts on the network or clocks of nodes in network
    /// namespaces (refused when nodes run on loopback).
    pub needs_network: bool,
    /// Whether the fault needs a sharded system with a shard controller.
    pub needs_shards: bool,
}

pub trait Package: Send {
    /// Name, colour and needs of this package.
    fn info(&self) -> PackageInfo;
    /// The fault kind (`kill`, `pause`, `partition`, `clock`, ...).
    fn name(&self) -> &'static str {
        self.info().name
    }
    /// How `--nemesis` names this package, options included (`kill`,
    /// `partition:isolate-leader`): what the run records and what parses
    /// back into the same package.
    fn spec(&self) -> String {
        self.name().to_string()
    }
    /// Plot colour (CSS hex).
    fn colour(&self) -> &'static str {
        self.info().colour
    }
    /// Start the fault; the returned value (targets, grudge...) goes into the
    /// history. When it fails part-way, what was done stays recorded in the
    /// package so `stop` undoes it.
    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError>;
    /// Undo the fault now in force (nothing when none is); the returned value
    /// says what was healed.
    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError>;
    /// Whether a fault of this package is in force.
    fn active(&self) -> bool;
    /// Whether the final heal has something to do (by default: a fault is
    /// in force).
    fn needs_heal(&self) -> bool {
        self.active()
    }
    /// The final heal at the end of a run (by default: stop the fault in
    /// force). Recorded as a `stop-<name>`.
    fn heal(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        self.stop(db)
    }
}
