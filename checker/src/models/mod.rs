//! Sequential specifications behind one small trait, one file per model.
//! Every model state is a `u32` id (models intern their states), so the search
//! can hash and compare states in O(1) and keep them in compact memo entries.

mod cas_register;
mod joint;
mod kv;
mod register;
mod values;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::CheckError;
use crate::ops::Operation;

pub use cas_register::CasRegister;
pub use joint::Joint;
pub use kv::Kv;
pub use register::Register;
pub use values::Values;

/// A sequential object the search linearizes operations against.
pub trait Model: Sized + Send {
    /// An operation compiled for this model (argument and observed result).
    type Op: Copy + Send + Sync;

    /// Compiles operations (all on one partition) into model ops.
    fn compile(ops: &[&Operation]) -> Result<(Self, Vec<Self::Op>), CheckError>;
    /// The initial state.
    fn init(&mut self) -> u32;
    /// Applies `op` in `state`: the next state, or `None` if the observed
    /// result is impossible there.
    fn step(&mut self, state: u32, op: Self::Op) -> Option<u32>;
    /// True when `op` is a read: it never changes what later ops observe.
    /// The search linearizes an enabled read without branching only when
    /// `step` returns the same state (a read may still map a state standing
    /// for several values to the one it observed, as `kv` gets do).
    fn read_only(op: Self::Op) -> bool;
    /// The independent object (key) `op` acts on: operations on different
    /// keys commute. Single-object models use one key.
    fn key(_op: Self::Op) -> u32 {
        0
    }
    /// A human rendering of a state.
    fn show_state(&self, state: u32) -> String;
    /// Why `op` cannot run in `state`, e.g. "can't read 3 from register holding 4".
    fn explain(&self, state: u32, op: Self::Op) -> String;
}

/// Which model to check against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// get / put on a register, initially null.
    Register,
    /// get / put / cas `[expected, new]` on a register, initially null.
    CasRegister,
    /// get / put / append on strings, initially empty (Porcupine's KV model).
    Kv,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = CheckError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "register" => Ok(ModelKind::Register),
            "cas-register" | "cas" => Ok(ModelKind::CasRegister),
            "kv" => Ok(ModelKind::Kv),
            other => Err(CheckError::ModelName(other.to_string())),
        }
    }
}

/// The error for an operation a model cannot express.
pub(crate) fn unsupported(model: &'static str, op: &Operation, why: &'static str) -> CheckError {
    CheckError::Unsupported {
        line: op.call_line,
        model,
        f: op.f.name().to_string(),
        value: op.input.to_string(),
        why,
    }
}
