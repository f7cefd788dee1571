//! `kv`: Porcupine's key/value model for one key: get / put / append on a
//! string, initially empty (a get of null reads the empty string).
//!
//! States are hash-consed strings: a string is either a leaf (a value from
//! the history) or `parent ++ leaf`, identified by a `u32`, with a
//! polynomial hash (mod 2^61 - 1) and length computed in O(1) from its parts.
//! Equal strings get equal ids (a hash match is confirmed by comparing the
//! text), so a get is one integer comparison and an append is O(1) amortized
//! however long the string grows.

use std::collections::HashMap;

use hashbrown::HashTable;

use super::{Model, unsupported};
use crate::error::CheckError;
use crate::fasthash::{FastMap, mix};
use crate::history::{Func, Value};
use crate::ops::Operation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvOp {
    Get(u32),
    Put(u32),
    Append(u32),
}

const NIL: u32 = u32::MAX;
const P: u64 = (1 << 61) - 1;
const BASE: u64 = 0x1f3d_5b79_a2c4_e681 % P;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// `NIL` for a leaf.
    parent: u32,
    /// For a leaf: its own id; otherwise the appended leaf.
    piece: u32,
    len: u32,
    hash: u64,
}

#[derive(Debug, Clone)]
pub struct Kv {
    nodes: Vec<Node>,
    /// Text and BASE^len of each leaf (by node id; empty for inner nodes).
    leaf_text: HashMap<u32, (Box<str>, u64)>,
    table: HashTable<u32>,
    appends: FastMap<(u32, u32), u32>,
    scratch: (Vec<u8>, Vec<u8>),
}

fn mulmod(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    let lo = (r as u64) & P;
    let hi = (r >> 61) as u64;
    let s = lo + hi;
    if s >= P { s - P } else { s }
}

fn addmod(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= P { s - P } else { s }
}

fn text_hash(s: &str) -> (u64, u64) {
    s.bytes().fold((0, 1), |(h, pow), b| {
        (addmod(mulmod(h, BASE), u64::from(b) + 1), mulmod(pow, BASE))
    })
}

fn table_hash(hash: u64, len: u32) -> u64 {
    mix(hash ^ (u64::from(len) << 61))
}

impl Default for Kv {
    fn default() -> Self {
        let mut kv = Kv {
            nodes: Vec::new(),
            leaf_text: HashMap::new(),
            table: HashTable::new(),
            appends: FastMap::default(),
            scratch: (Vec::new(), Vec::new()),
        };
        kv.leaf("");
        kv
    }
}

impl Kv {
    /// Writes the text of node `id` into `out`.
    fn materialize(
        nodes: &[Node],
        leaves: &HashMap<u32, (Box<str>, u64)>,
        id: u32,
        out: &mut Vec<u8>,
    ) {
        out.clear();
        let mut pieces = Vec::new();
        let mut cur = id;
        while cur != NIL {
            let n = nodes[cur as usize];
            pieces.push(n.piece);
            cur = n.parent;
        }
        for p in pieces.iter().rev() {
            if let Some((t, _)) = leaves.get(p) {
                out.extend_from_slice(t.as_bytes());
            }
        }
    }

    /// Finds the node equal to `candidate`, or adds it.
    fn intern(&mut self, candidate: Node, text: Option<&str>) -> u32 {
        let th = table_hash(candidate.hash, candidate.len);
        let (nodes, leaves, scratch) = (&self.nodes, &self.leaf_text, &mut self.scratch);
        let mut built = false;
        let found = self.table.find(th, |&id| {
            let n = nodes[id as usize];
            if n.hash != candidate.hash || n.len != candidate.len {
                return false;
            }
            Self::materialize(nodes, leaves, id, &mut scratch.0);
            if !built {
                match text {
                    Some(t) => {
                        scratch.1.clear();
                        scratch.1.extend_from_slice(t.as_bytes());
                    }
                    None => {
                        Self::materialize(nodes, leaves, candidate.parent, &mut scratch.1);
                        if let Some((t, _)) = leaves.get(&candidate.piece) {
                            scratch.1.extend_from_slice(t.as_bytes());
                        }
                    }
                }
                built = true;
            }
            scratch.0 == scratch.1
        });
        if let Some(&id) = found {
            return id;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(candidate);
        let nodes = &self.nodes;
        self.table.insert_unique(th, id, |&i| {
            table_hash(nodes[i as usize].hash, nodes[i as usize].len)
        });
        id
    }

    /// Interns a string from the history as a leaf (or finds its equal).
    fn leaf(&mut self, s: &str) -> u32 {
        let (hash, pow) = text_hash(s);
        let id = self.nodes.len() as u32;
        let got = self.intern(
            Node {
                parent: NIL,
                piece: id,
                len: s.len() as u32,
                hash,
            },
            Some(s),
        );
        if got == id {
            self.leaf_text.insert(id, (s.into(), pow));
        }
        got
    }

    fn text(op: &Operation, value: &Value) -> Result<String, CheckError> {
        match value {
            Value::Null => Ok(String::new()),
            Value::Str(s) => Ok(s.to_string()),
            Value::Int(i) => Ok(i.to_string()),
            _ => Err(unsupported("kv", op, "kv values are strings")),
        }
    }

    fn string(&self, id: u32) -> String {
        let mut out = Vec::new();
        Self::materialize(&self.nodes, &self.leaf_text, id, &mut out);
        String::from_utf8_lossy(&out).into_owned()
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
                    Func::Get => KvOp::Get(
                        m.leaf(&Kv::text(op, op.output.as_ref().unwrap_or(&Value::Null))?),
                    ),
                    Func::Put => KvOp::Put(m.leaf(&Kv::text(op, &op.input)?)),
                    Func::Append => KvOp::Append(m.leaf(&Kv::text(op, &op.input)?)),
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
                let (s, t) = (self.nodes[state as usize], self.nodes[suffix as usize]);
                let pow = self.leaf_text.get(&suffix).map_or(1, |&(_, p)| p);
                let candidate = Node {
                    parent: if state == 0 { NIL } else { state },
                    piece: suffix,
                    len: s.len + t.len,
                    hash: addmod(mulmod(s.hash, pow), t.hash),
                };
                let next = if state == 0 {
                    suffix
                } else {
                    self.intern(candidate, None)
                };
                self.appends.insert((state, suffix), next);
                Some(next)
            }
        }
    }

    fn read_only(op: KvOp) -> bool {
        matches!(op, KvOp::Get(_))
    }

    fn show_state(&self, state: u32) -> String {
        format!("{:?}", self.string(state))
    }

    fn explain(&self, state: u32, op: KvOp) -> String {
        match op {
            KvOp::Get(v) => format!(
                "can't get {} from key holding {}",
                self.show_state(v),
                self.show_state(state)
            ),
            KvOp::Put(v) => format!("put {} fits any state", self.show_state(v)),
            KvOp::Append(v) => format!("append {} fits any state", self.show_state(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_get_equal_ids() {
        let mut kv = Kv::default();
        let (a, b, ab) = (kv.leaf("a"), kv.leaf("b"), kv.leaf("ab"));
        let s = kv.step(0, KvOp::Append(a)).unwrap();
        assert_eq!(s, a);
        let s = kv.step(s, KvOp::Append(b)).unwrap();
        assert_eq!(s, ab, "\"a\" ++ \"b\" must be the leaf \"ab\"");
        let ba = kv.step(b, KvOp::Append(a)).unwrap();
        assert_ne!(ba, ab);
        assert_eq!(kv.string(ba), "ba");
        assert_eq!(kv.step(ba, KvOp::Get(ab)), None);
        assert_eq!(kv.step(ab, KvOp::Get(ab)), Some(ab));
        let empty = kv.leaf("");
        assert_eq!(empty, 0);
        assert_eq!(kv.step(ab, KvOp::Append(empty)), Some(ab));
    }
}
