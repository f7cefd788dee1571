//! `cas-register`: get / put / cas `[expected, new]` on one value, initially
//! null. An `ok` cas took effect (so the register held `expected`); a failed
//! cas never reaches the model (pairing drops it), and an unknown one may be
//! linearized (applied) or left out.

use super::{Model, Values, unsupported};
use crate::error::CheckError;
use crate::history::Func;
use crate::ops::Operation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOp {
    Read(u32),
    Write(u32),
    Cas(u32, u32),
}

#[derive(Debug, Clone, Default)]
pub struct CasRegister {
    values: Values,
}

impl Model for CasRegister {
    type Op = CasOp;

    fn compile(ops: &[&Operation]) -> Result<(Self, Vec<CasOp>), CheckError> {
        let mut m = CasRegister::default();
        let compiled = ops
            .iter()
            .map(|op| match op.f {
                Func::Get => Ok(CasOp::Read(
                    m.values.intern(op.output.as_ref().unwrap_or(&op.input)),
                )),
                Func::Put => Ok(CasOp::Write(m.values.intern(&op.input))),
                Func::Cas => {
                    let (from, to) = op.input.as_pair().ok_or_else(|| {
                        unsupported("cas-register", op, "a cas value must be [expected, new]")
                    })?;
                    Ok(CasOp::Cas(m.values.intern(from), m.values.intern(to)))
                }
                _ => Err(unsupported(
                    "cas-register",
                    op,
                    "a cas-register supports get, put and cas",
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok((m, compiled))
    }

    fn init(&mut self) -> u32 {
        Values::NULL
    }

    fn step(&mut self, state: u32, op: CasOp) -> Option<u32> {
        match op {
            CasOp::Read(v) => (v == state).then_some(state),
            CasOp::Write(v) => Some(v),
            CasOp::Cas(from, to) => (from == state).then_some(to),
        }
    }

    fn read_only(op: CasOp) -> bool {
        matches!(op, CasOp::Read(_))
    }

    fn show_state(&self, state: u32) -> String {
        self.values.get(state).to_string()
    }

    fn explain(&self, state: u32, op: CasOp) -> String {
        let v = |id| self.values.get(id);
        match op {
            CasOp::Read(r) => format!("can't read {} from register holding {}", v(r), v(state)),
            CasOp::Write(w) => format!("write {} fits any state", v(w)),
            CasOp::Cas(from, to) => format!(
                "can't cas {} -> {} on register holding {}",
                v(from),
                v(to),
                v(state)
            ),
        }
    }
}
