//! faultline-checker: history types and parsers, linearizability checking,
//! models, checkers that compose (`compose`), and the stateright Raft model.
//!
//! ```no_run
//! use faultline_checker::{check, parse_file, CheckOptions, ModelKind};
//! let (history, _format) = parse_file("history.jsonl".as_ref(), None).unwrap();
//! let result = check(&history, ModelKind::CasRegister, &CheckOptions::default()).unwrap();
//! println!("{}", result.verdict.name());
//! ```

mod budget;
mod check;
pub mod compose;
pub mod counterexample;
mod error;
mod fasthash;
pub mod generate;
pub mod history;
pub mod models;
pub mod ops;
pub mod parse;
pub mod raft_model;
mod schedule;
mod search;

pub use check::{CheckOptions, CheckResult, PartitionResult, PartitionVerdict, Verdict, check};
pub use compose::{Checker, CheckerOutcome, Composed, Linearizable, OpStats, compose};
pub use counterexample::{Counterexample, OpView, Step};
pub use error::{CheckError, ParseError};
pub use history::{Event, EventType, Func, History, Process, Value};
pub use models::ModelKind;
pub use parse::{Format, parse_file, parse_str};

impl Format {
    /// The model a format's histories are checked against by default.
    pub fn default_model(self) -> ModelKind {
        match self {
            Format::PorcupineKv => ModelKind::Kv,
            Format::Jsonl | Format::JepsenEtcd | Format::JepsenEdn => ModelKind::CasRegister,
        }
    }
}
