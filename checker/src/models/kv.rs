//! `kv`: Porcupine's key/value model for one key: get / put / append on a
//! string, initially empty (a get of null reads the empty string).
//!
//! Concrete states are hash-consed strings: a string is either a leaf (a
//! value from the history) or `parent ++ leaf`, identified by a `u32`, with a
//! polynomial hash (mod 2^61 - 1) and length computed in O(1) from its parts.
//! Equal strings get equal ids (a hash match is confirmed by comparing the
//! text), so a get is one integer comparison and an append is O(1) amortized
//! however long the string grows.
//!
//! Lazy states (a partial-order reduction for concurrent appends): with k
//! concurrent appends between two gets, each of the k! orders gives a
//! different string, and a memo of (linearized set, string) would see them
//! all. Instead an append does not commit to an order: a lazy state is a
//! concrete prefix plus a sequence of *bags* B1..Bn (multisets of appended
//! values, stored sorted) and `min_ret`, the smallest return position of the
//! last bag's members (+infinity for unknown outcomes). It stands for the set
//! of strings `prefix ++ perm(B1) ++ ... ++ perm(Bn)`. Lazy state ids have
//! the top bit set; concrete ones are string ids.
//! - append x: with no bag, start B1 = {x}; if x was called before `min_ret`
//!   (x is concurrent with every member of the last bag), add x to it;
//!   otherwise close the last bag and start a new one {x}.
//! - put v: the concrete state v. get v: consistent iff v is one of the
//!   represented strings; the next state is the concrete v (the get fixes
//!   the order), so only a get on a concrete state leaves the state as is.
//!
//! Soundness: the search linearizes an op only once every op that returned
//! before its call is linearized. So if a is linearized before x, x did not
//! return before a's call; and x joins a bag only if it was called before
//! every member returned: bag members are pairwise concurrent, and on this
//! key they are consecutive (a get or put drops the bags). Permuting each bag
//! independently therefore keeps every real-time constraint of the key's
//! ops (ops in earlier bags or before the bags stay before, later ones
//! after), so each represented string is the result of a real-time-valid
//! order of the linearized ops, and a get accepted on it (and everything
//! after) extends that order. The state depends only on the linearized
//! ops and their bag structure, not on the order inside bags, so the memo
//! stays exact. Completeness: following any valid concrete order, each
//! append maps a state containing that order's string s to one containing
//! s ++ x (x joins the last bag or a new one), and its gets read exactly
//! that string, so the search reaches the same verdict as with concrete
//! strings.

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
    /// The appended leaf and the op's call and return positions (return
    /// `INFINITY` for an unknown outcome).
    Append {
        v: u32,
        call: u32,
        ret: u32,
    },
}

const NIL: u32 = u32::MAX;
/// Tag of lazy state ids (concrete ones are string node ids below it).
const LAZY: u32 = 1 << 31;

/// A lazy state: `base` (a concrete string, or a lazy state whose last bag
/// is closed) followed by one bag of appended leaves in any order. Closed
/// bags are shared through `base`, so an append costs O(size of the last
/// bag) however many bags precede it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Lazy {
    base: u32,
    /// Non-empty, sorted by leaf id.
    bag: Box<[u32]>,
    /// The smallest return position among the bag's members.
    min_ret: u32,
}

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
    lazy: Vec<Lazy>,
    lazy_ids: FastMap<Lazy, u32>,
    /// (state, leaf, call, ret) -> state, for lazy transitions.
    lazy_appends: FastMap<(u32, u32, u32, u32), u32>,
    /// (lazy state, leaf) -> whether the leaf is one of its strings.
    lazy_gets: FastMap<(u32, u32), bool>,
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
            lazy: Vec::new(),
            lazy_ids: FastMap::default(),
            lazy_appends: FastMap::default(),
            lazy_gets: FastMap::default(),
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

    fn leaf_bytes(&self, leaf: u32) -> &[u8] {
        self.leaf_text
            .get(&leaf)
            .map_or(&[][..], |(t, _)| t.as_bytes())
    }

    /// The concrete string `state ++ suffix` (`suffix` a leaf).
    fn concat(&mut self, state: u32, suffix: u32) -> u32 {
        if suffix == 0 {
            return state;
        }
        if let Some(&next) = self.appends.get(&(state, suffix)) {
            return next;
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
        assert!(next < LAZY, "kv: too many distinct strings");
        self.appends.insert((state, suffix), next);
        next
    }

    fn intern_lazy(&mut self, l: Lazy) -> u32 {
        if let Some(&id) = self.lazy_ids.get(&l) {
            return id;
        }
        let id = LAZY | self.lazy.len() as u32;
        assert!(id != NIL, "kv: too many lazy states");
        self.lazy.push(l.clone());
        self.lazy_ids.insert(l, id);
        id
    }

    /// The concrete prefix and the bags (first to last) of a lazy state.
    fn unfold(&self, state: u32) -> (u32, Vec<&[u32]>) {
        let mut bags = Vec::new();
        let mut cur = state;
        while cur & LAZY != 0 {
            let l = &self.lazy[(cur & !LAZY) as usize];
            bags.push(&l.bag[..]);
            cur = l.base;
        }
        bags.reverse();
        (cur, bags)
    }

    fn append(&mut self, state: u32, v: u32, call: u32, ret: u32) -> u32 {
        if state & LAZY == 0 {
            if v == 0 {
                return state;
            }
            return self.intern_lazy(Lazy {
                base: state,
                bag: Box::new([v]),
                min_ret: ret,
            });
        }
        if let Some(&next) = self.lazy_appends.get(&(state, v, call, ret)) {
            return next;
        }
        let l = self.lazy[(state & !LAZY) as usize].clone();
        let next = if call < l.min_ret {
            // Concurrent with every member: joins the bag.
            let mut bag = l.bag.to_vec();
            let at = bag.partition_point(|&x| x <= v);
            bag.insert(at, v);
            Lazy {
                base: l.base,
                bag: bag.into_boxed_slice(),
                min_ret: l.min_ret.min(ret),
            }
        } else {
            // Closes the bag. A closed bag right after a concrete prefix
            // whose members are all equal has one order: it joins the prefix.
            let base = if l.base & LAZY == 0 && l.bag.iter().all(|&x| x == l.bag[0]) {
                l.bag.iter().fold(l.base, |p, &x| self.concat(p, x))
            } else {
                state
            };
            Lazy {
                base,
                bag: Box::new([v]),
                min_ret: ret,
            }
        };
        let next = self.intern_lazy(next);
        self.lazy_appends.insert((state, v, call, ret), next);
        next
    }

    /// Whether leaf `v` is one of the strings lazy state `state` stands for.
    fn lazy_holds(&mut self, state: u32, v: u32) -> bool {
        if let Some(&ok) = self.lazy_gets.get(&(state, v)) {
            return ok;
        }
        let (base, bags) = self.unfold(state);
        let mut target = Vec::new();
        Self::materialize(&self.nodes, &self.leaf_text, v, &mut target);
        let mut prefix = Vec::new();
        Self::materialize(&self.nodes, &self.leaf_text, base, &mut prefix);
        let total: usize = prefix.len()
            + bags
                .iter()
                .flat_map(|b| b.iter())
                .map(|&x| self.leaf_bytes(x).len())
                .sum::<usize>();
        let mut ok = total == target.len() && target.starts_with(&prefix);
        let mut at = prefix.len();
        for bag in bags {
            if !ok {
                break;
            }
            let pieces: Vec<&[u8]> = bag.iter().map(|&x| self.leaf_bytes(x)).collect();
            let len: usize = pieces.iter().map(|p| p.len()).sum();
            ok = bag_matches(bag, &pieces, &target[at..at + len]);
            at += len;
        }
        self.lazy_gets.insert((state, v), ok);
        ok
    }
}

/// Whether some order of `pieces` (the texts of leaves `ids`, sorted by id,
/// so equal leaves are adjacent) concatenates to `target` (whose length is
/// their total). A depth-first search that tries each distinct leaf once per
/// position and remembers the sets of used pieces that failed (the position
/// is determined by the set), so it is at worst exponential in the number
/// of pieces that share prefixes, and linear for delimited unique tokens.
fn bag_matches(ids: &[u32], pieces: &[&[u8]], target: &[u8]) -> bool {
    fn go(
        ids: &[u32],
        pieces: &[&[u8]],
        target: &[u8],
        at: usize,
        used: &mut Vec<u64>,
        left: usize,
        failed: &mut std::collections::HashSet<Vec<u64>>,
    ) -> bool {
        if left == 0 {
            return at == target.len();
        }
        if failed.contains(used) {
            return false;
        }
        let mut prev = None;
        for i in 0..pieces.len() {
            if used[i / 64] >> (i % 64) & 1 == 1 || prev == Some(ids[i]) {
                continue;
            }
            prev = Some(ids[i]);
            let p = pieces[i];
            if target[at..].starts_with(p) {
                used[i / 64] |= 1 << (i % 64);
                let found = go(ids, pieces, target, at + p.len(), used, left - 1, failed);
                used[i / 64] &= !(1 << (i % 64));
                if found {
                    return true;
                }
            }
        }
        failed.insert(used.clone());
        false
    }
    let mut used = vec![0u64; pieces.len().div_ceil(64)];
    go(
        ids,
        pieces,
        target,
        0,
        &mut used,
        pieces.len(),
        &mut Default::default(),
    )
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
                    Func::Append => KvOp::Append {
                        v: m.leaf(&Kv::text(op, &op.input)?),
                        call: op.call,
                        ret: op.ret,
                    },
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
            KvOp::Get(v) if state & LAZY == 0 => (v == state).then_some(state),
            KvOp::Get(v) => self.lazy_holds(state, v).then_some(v),
            KvOp::Put(v) => Some(v),
            KvOp::Append { v, call, ret } => Some(self.append(state, v, call, ret)),
        }
    }

    fn read_only(op: KvOp) -> bool {
        matches!(op, KvOp::Get(_))
    }

    fn show_state(&self, state: u32) -> String {
        if state & LAZY == 0 {
            return format!("{:?}", self.string(state));
        }
        let (base, bags) = self.unfold(state);
        let mut out = format!("{:?}", self.string(base));
        for bag in bags {
            let texts: Vec<String> = bag
                .iter()
                .map(|&x| format!("{:?}", self.string(x)))
                .collect();
            if texts.len() == 1 {
                out += &format!(" then {}", texts[0]);
            } else {
                out += &format!(" then {{{}}} in any order", texts.join(", "));
            }
        }
        out
    }

    fn explain(&self, state: u32, op: KvOp) -> String {
        match op {
            KvOp::Get(v) => format!(
                "can't get {} from key holding {}",
                self.show_state(v),
                self.show_state(state)
            ),
            KvOp::Put(v) => format!("put {} fits any state", self.show_state(v)),
            KvOp::Append { v, .. } => {
                format!("append {} fits any state", self.show_state(v))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: u32 = u32::MAX;

    fn app(v: u32, call: u32, ret: u32) -> KvOp {
        KvOp::Append { v, call, ret }
    }

    #[test]
    fn equal_strings_get_equal_ids() {
        let mut kv = Kv::default();
        let (a, b, ab) = (kv.leaf("a"), kv.leaf("b"), kv.leaf("ab"));
        let s = kv.concat(0, a);
        assert_eq!(s, a);
        let s = kv.concat(s, b);
        assert_eq!(s, ab, "\"a\" ++ \"b\" must be the leaf \"ab\"");
        let ba = kv.concat(b, a);
        assert_ne!(ba, ab);
        assert_eq!(kv.string(ba), "ba");
        assert_eq!(kv.step(ba, KvOp::Get(ab)), None);
        assert_eq!(kv.step(ab, KvOp::Get(ab)), Some(ab));
        let empty = kv.leaf("");
        assert_eq!(empty, 0);
        assert_eq!(kv.step(ab, app(empty, 0, 1)), Some(ab));
    }

    #[test]
    fn concurrent_appends_share_one_lazy_state() {
        let mut kv = Kv::default();
        let (x, y, z) = (kv.leaf("x,"), kv.leaf("y,"), kv.leaf("z,"));
        let (xy, yx, xyz, zxy) = (
            kv.leaf("x,y,"),
            kv.leaf("y,x,"),
            kv.leaf("x,y,z,"),
            kv.leaf("z,x,y,"),
        );
        // x [0, 10] and y [1, 11] overlap: either order reaches one state.
        let s1 = kv.step(0, app(x, 0, 10)).unwrap();
        let s1 = kv.step(s1, app(y, 1, 11)).unwrap();
        let s2 = kv.step(0, app(y, 1, 11)).unwrap();
        let s2 = kv.step(s2, app(x, 0, 10)).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(kv.show_state(s1), r#""" then {"x,", "y,"} in any order"#);
        assert_eq!(kv.step(s1, KvOp::Get(xy)), Some(xy));
        assert_eq!(kv.step(s1, KvOp::Get(yx)), Some(yx));
        assert_eq!(kv.step(s1, KvOp::Get(x)), None);
        // z called at 12, after x returned: a new bag, so z is last.
        let s3 = kv.step(s1, app(z, 12, INF)).unwrap();
        assert_eq!(kv.step(s3, KvOp::Get(xyz)), Some(xyz));
        assert_eq!(kv.step(s3, KvOp::Get(zxy)), None);
        assert_eq!(
            kv.show_state(s3),
            r#""" then {"x,", "y,"} in any order then "z,""#
        );
        // A put makes the state concrete again.
        assert_eq!(kv.step(s3, KvOp::Put(x)), Some(x));
    }

    #[test]
    fn closed_single_order_bags_join_the_prefix() {
        let mut kv = Kv::default();
        let (x, y, xy) = (kv.leaf("x"), kv.leaf("y"), kv.leaf("xy"));
        // Sequential appends: a closed one-member bag is plain prefix.
        let s = kv.step(0, app(x, 0, 1)).unwrap();
        let s = kv.step(s, app(y, 2, 3)).unwrap();
        let t = kv.step(x, app(y, 2, 3)).unwrap();
        assert_eq!(s, t);
        assert_eq!(kv.show_state(s), r#""x" then "y""#);
        assert_eq!(kv.step(s, KvOp::Get(xy)), Some(xy));
    }

    #[test]
    fn bag_matching_backtracks_over_shared_prefixes() {
        let mut kv = Kv::default();
        let (a, ab, b, c) = (kv.leaf("a"), kv.leaf("ab"), kv.leaf("b"), kv.leaf("c"));
        let mut s = 0;
        for (i, v) in [a, ab, b, c].into_iter().enumerate() {
            s = kv.step(s, app(v, i as u32, 100)).unwrap();
        }
        for (text, ok) in [
            ("aabbc", true),
            ("abcab", true),
            ("cabab", true),
            ("abbac", true),
            ("aabcb", true),
            ("bcaab", true),
            ("aaabb", false),
            ("abab", false),
            ("ccaab", false),
        ] {
            let g = kv.leaf(text);
            assert_eq!(kv.step(s, KvOp::Get(g)).is_some(), ok, "{text}");
        }
        // Duplicates in a bag.
        let mut s = 0;
        for i in 0..3 {
            s = kv.step(s, app(a, i, 100)).unwrap();
        }
        s = kv.step(s, app(b, 3, 100)).unwrap();
        let (aaba, abaa, abab) = (kv.leaf("aaba"), kv.leaf("abaa"), kv.leaf("abab"));
        assert!(kv.step(s, KvOp::Get(aaba)).is_some());
        assert!(kv.step(s, KvOp::Get(abaa)).is_some());
        assert!(kv.step(s, KvOp::Get(abab)).is_none());
    }
}
