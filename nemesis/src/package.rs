//! A nemesis package: one kind of fault with its plot colour, the way to
//! start it (choosing targets with a seeded RNG), stop it, and heal whatever
//! of it is still in force at the end of a run. The history records a
//! package's faults as `start-<name>` / `stop-<name>`; the report shades
//! them in the package's colour.

use faultline_workloads::Db;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::error::NemesisError;

pub trait Package: Send {
    /// The fault kind (`kill`, `pause`, later `partition`, `clock`, ...).
    fn name(&self) -> &'static str;
    /// Plot colour (CSS hex), the same the reports use for this kind.
    fn colour(&self) -> &'static str;
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
