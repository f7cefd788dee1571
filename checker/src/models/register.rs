//! `register`: get / put on a single value, initially null.

use super::{Model, Values, unsupported};
use crate::error::CheckError;
use crate::history::Func;
use crate::ops::Operation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOp {
    Read(u32),
    Write(u32),
}

#[derive(Debug, Clone, Default)]
pub struct Register {
    values: Values,
}

impl Model for Register {
    type Op = RegisterOp;

    fn compile(ops: &[&Operation]) -> Result<(Self, Vec<RegisterOp>), CheckError> {
        let mut m = Register::default();
        let compiled = ops
            .iter()
            .map(|op| match op.f {
                Func::Get => Ok(RegisterOp::Read(
                    m.values.intern(op.output.as_ref().unwrap_or(&op.input)),
                )),
                Func::Put => Ok(RegisterOp::Write(m.values.intern(&op.input))),
                _ => Err(unsupported(
                    "register",
                    op,
                    "a register supports get and put",
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok((m, compiled))
    }

    fn init(&mut self) -> u32 {
        Values::NULL
    }

    fn step(&mut self, state: u32, op: RegisterOp) -> Option<u32> {
        match op {
            RegisterOp::Read(v) => (v == state).then_some(state),
            RegisterOp::Write(v) => Some(v),
        }
    }

    fn read_only(op: RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(_))
    }

    fn show_state(&self, state: u32) -> String {
        self.values.get(state).to_string()
    }

    fn explain(&self, state: u32, op: RegisterOp) -> String {
        match op {
            RegisterOp::Read(v) => format!(
                "can't read {} from register holding {}",
                self.values.get(v),
                self.show_state(state)
            ),
            RegisterOp::Write(v) => format!("write {} fits any state", self.values.get(v)),
        }
    }
}
