//! What a system under test gives the runner. A [`SystemKind`] is one entry
//! of the registry (`--db NAME`): it says which options it can run and
//! builds a [`SystemUnderTest`] for one test. A system under test is a
//! [`Db`] (lifecycle and node control, Jepsen's DB) that also opens the
//! clients of the workload (Jepsen's Client) once it is set up.
//!
//! Adding a system: implement these three in one module of `systems/` and
//! list it in [`crate::systems::ALL`]. The runner never names a system.

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;

use faultline_workloads::{ClientFactory, Db};

use crate::error::RunnerError;
use crate::plan::Plan;

/// A running (or about to run) system under test.
pub trait SystemUnderTest: Db {
    /// Clients for the workers, one per process; called after
    /// [`Db::setup`] (addresses are known then).
    fn clients(&self) -> Result<Arc<dyn ClientFactory>, RunnerError>;
}

/// Where and how one test runs a system.
#[derive(Debug, Clone)]
pub struct SystemContext {
    /// The test's resolved options.
    pub plan: Plan,
    /// The run folder: nodes keep their data and logs under it.
    pub run_dir: PathBuf,
    /// The runtime the test's clients and status calls run on.
    pub runtime: tokio::runtime::Handle,
}

/// One entry of the registry of systems.
pub trait SystemKind: Sync + Debug {
    /// The `--db` name.
    fn name(&self) -> &'static str;
    /// One line for `--help` and error messages.
    fn about(&self) -> &'static str;
    /// Refuse options the system cannot run (workload, bug, groups, ...),
    /// saying what to use instead.
    fn validate(&self, plan: &Plan) -> Result<(), RunnerError>;
    /// The start of a test's default name (e.g. `etcd-`), before
    /// `<workload>-<nemesis>[-<bug>]`.
    fn test_name_prefix(&self, plan: &Plan) -> String;
    /// The extra flags of `faultline run` that replay this system's own
    /// options (e.g. ` --db etcd`); the runner adds the common ones.
    fn replay_flags(&self, plan: &Plan) -> String;
    /// A system under test for one test, not started yet.
    fn build(&self, ctx: &SystemContext) -> Result<Box<dyn SystemUnderTest>, RunnerError>;
}
