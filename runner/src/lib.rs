//! faultline-runner: one Jepsen-style test from plan to report, over any
//! system under test behind the workloads' `Db` and `Client` protocols.
//!
//! - [`plan`]: the options of a test checked and resolved ([`Plan`]).
//! - [`system`]: what a system gives the runner ([`SystemKind`],
//!   [`SystemUnderTest`]); [`systems`]: the registry and the systems
//!   (the faultline KV stack, one group or sharded, and etcd).
//! - [`test`]: [`run_test`], the lifecycle of one test: set up, ready,
//!   clients + nemesis, heal, recovery, final reads, teardown, logs, checks,
//!   results.json, the report.
//! - [`results`]: the composed checkers and the results record;
//!   [`store`]: the run folder, the replay command, log collection;
//!   [`markers`]: what `faultline clean` needs when a runner dies;
//!   [`interrupt`]: how signals reach a test; [`progress`]: the live line.
//!
//! ```no_run
//! use faultline_runner::{RunOptions, Uninterrupted, plan, run_test};
//! # fn main() -> Result<(), faultline_runner::RunnerError> {
//! let opts = RunOptions {
//!     db: "faultline".into(), workload: "register".into(), nemesis: "kill".into(),
//!     time_limit: 10, concurrency: 5, groups: None, replicas: 3, bug: None,
//!     seed: Some(1), test_count: 1, store: "store".into(), rate: None, keys: None,
//!     ops_per_key: None, nemesis_interval: 5.0, name: None, check_timeout: 60.0,
//!     no_netns: true, etcd_serializable_reads: false, attempt_timeout_ms: 250,
//!     system_file: None, hosts: None,
//!     read_mode: "read-index".into(), clock_drift: None,
//! };
//! let outcome = run_test(&plan::plan(&opts)?, &Uninterrupted)?;
//! println!("{:?}", outcome.verdict());
//! # Ok(()) }
//! ```

pub mod error;
pub mod interrupt;
pub mod markers;
pub mod plan;
pub mod progress;
pub mod results;
pub mod store;
pub mod system;
pub mod systems;
pub mod test;

pub use error::RunnerError;
pub use interrupt::{Interruption, Switch, Uninterrupted};
pub use plan::{Plan, RunOptions, check_limits, plan, plan_with};
pub use system::{SystemContext, SystemKind, SystemUnderTest};
pub use test::{TestOutcome, run_test};
