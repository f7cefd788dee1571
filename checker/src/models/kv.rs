//! `kv`: Porcupine's key/value model for one key: get / put / append on a
//! string, initially empty (a get of null reads the empty string). Strings are
//! interned, so a state is a `u32` and equal strings have equal ids; appends
//! are cached as `(state, suffix) -> state` transitions.

use std::collections::HashMap;

use super::{Model, unsupported};
use crate::error::CheckError;
use crate::fasthash::FastMap;
use crate::history::{Func, Value};
use crate::ops::Operation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvOp {
    Get(u32),
    Put(u32),
    Append(u32),
}

#[derive(Debug, Clone)]
pub struct Kv {
    ids: HashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
    appends: FastMap<(u32, u32), u32>,
}

impl Default for Kv {
    fn default() -> Self {
        let mut kv = Kv { ids: HashMap::new(), strings: Vec::new(), appends: FastMap::default() };
        kv.intern("");
        kv
    }
}

impl Kv {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    fn text(op: &Operation, value: &Value) -> Result<String, CheckError> {
        match value {
            Value::Null => Ok(String::new()),
            Value::Str(s) => Ok(s.to_string()),
            Value::Int(i) => Ok(i.to_string()),
            _ => Err(unsupported("kv", op, "kv values are strings")),
        }
    }
}

impl Model for Kv {
    type Op = KvOp;

    fn compile(ops: &[&Operation]) -> Result<(Self, Vec<KvOp>), CheckError> {
        let mut m = Kv::default();
        let compiled = ops
            .iter()
            .map(|op| {
                Ok(match op.f {
                    Func::Get => KvOp::Get(m.intern(&Kv::text(op, op.output.as_ref().unwrap_or(&Value::Null))?)),
                    Func::Put => KvOp::Put(m.intern(&Kv::text(op, &op.input)?)),
                    Func::Append => KvOp::Append(m.intern(&Kv::text(op, &op.input)?)),
                    _ => return Err(unsupported("kv", op, "kv supports get, put and append")),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok((m, compiled))
    }

    fn init(&mut self) -> u32 {
        0
    }

    #[inline]
    fn step(&mut self, state: u32, op: KvOp) -> Option<u32> {
        match op {
            KvOp::Get(v) => (v == state).then_some(state),
            KvOp::Put(v) => Some(v),
            KvOp::Append(0) => Some(state),
            KvOp::Append(suffix) => {
                if let Some(&next) = self.appends.get(&(state, suffix)) {
                    return Some(next);
                }
                let joined = format!("{}{}", self.strings[state as usize], self.strings[suffix as usize]);
                let next = self.intern(&joined);
                self.appends.insert((state, suffix), next);
                Some(next)
            }
        }
    }

    fn read_only(op: KvOp) -> bool {
        matches!(op, KvOp::Get(_))
    }

    fn show_state(&self, state: u32) -> String {
        format!("{:?}", self.strings[state as usize])
    }

    fn explain(&self, state: u32, op: KvOp) -> String {
        match op {
            KvOp::Get(v) => format!("can't get {} from key holding {}", self.show_state(v), self.show_state(state)),
            KvOp::Put(v) => format!("put {} fits any state", self.show_state(v)),
            KvOp::Append(v) => format!("append {} fits any state", self.show_state(v)),
        }
    }
}
