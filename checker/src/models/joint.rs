//! `Joint<M>`: one state for all keys (used by `--no-partition`): a map from
//! key to the per-key state of `M`. Map states are hash-consed into `u32` ids
//! with an incremental (Zobrist-style) hash, so a step costs O(1) amortized:
//! the changed component is patched, and `(map, key, component) -> map`
//! transitions are cached.

use std::collections::HashMap;
use std::sync::Arc;

use hashbrown::HashTable;

use super::Model;
use crate::error::CheckError;
use crate::fasthash::{FastMap, mix};
use crate::ops::Operation;

pub struct Joint<M> {
    inner: M,
    keys: Vec<Option<Arc<str>>>,
    /// Component states, `keys.len()` per map id.
    maps: Vec<u32>,
    hashes: Vec<u64>,
    index: HashTable<u32>,
    steps: FastMap<(u32, u32, u32), u32>,
    scratch: Vec<u32>,
}

fn component_hash(key: u32, comp: u32) -> u64 {
    mix((u64::from(key) << 32 | u64::from(comp)) ^ 0x9e37_79b9_7f4a_7c15)
}

impl<M: Model> Joint<M> {
    fn width(&self) -> usize {
        self.keys.len()
    }

    fn components(&self, id: u32) -> &[u32] {
        let w = self.width();
        &self.maps[id as usize * w..(id as usize + 1) * w]
    }

    /// Interns the map in `scratch` whose hash is `hash`.
    fn intern_scratch(&mut self, hash: u64) -> u32 {
        let w = self.width();
        let (maps, scratch) = (&self.maps, &self.scratch);
        if let Some(&id) = self.index.find(hash, |&id| {
            &maps[id as usize * w..(id as usize + 1) * w] == scratch.as_slice()
        }) {
            return id;
        }
        let id = self.hashes.len() as u32;
        self.maps.extend_from_slice(&self.scratch);
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.index.insert_unique(hash, id, |&i| hashes[i as usize]);
        id
    }
}

impl<M: Model> Model for Joint<M> {
    type Op = (u32, M::Op);

    fn compile(ops: &[&Operation]) -> Result<(Self, Vec<Self::Op>), CheckError> {
        let (inner, inner_ops) = M::compile(ops)?;
        let mut key_ids: HashMap<Option<Arc<str>>, u32> = HashMap::new();
        let mut keys = Vec::new();
        let compiled = ops
            .iter()
            .zip(inner_ops)
            .map(|(op, inner_op)| {
                let id = *key_ids.entry(op.key.clone()).or_insert_with(|| {
                    keys.push(op.key.clone());
                    keys.len() as u32 - 1
                });
                (id, inner_op)
            })
            .collect();
        let joint = Joint {
            inner,
            keys,
            maps: Vec::new(),
            hashes: Vec::new(),
            index: HashTable::new(),
            steps: FastMap::default(),
            scratch: Vec::new(),
        };
        Ok((joint, compiled))
    }

    fn init(&mut self) -> u32 {
        let init = self.inner.init();
        self.scratch = vec![init; self.width()];
        let hash = (0..self.width() as u32).fold(0, |h, k| h ^ component_hash(k, init));
        self.intern_scratch(hash)
    }

    #[inline]
    fn step(&mut self, state: u32, (key, op): Self::Op) -> Option<u32> {
        let w = self.width();
        let old = self.maps[state as usize * w + key as usize];
        let new = self.inner.step(old, op)?;
        if new == old {
            return Some(state);
        }
        if let Some(&next) = self.steps.get(&(state, key, new)) {
            return Some(next);
        }
        let hash =
            self.hashes[state as usize] ^ component_hash(key, old) ^ component_hash(key, new);
        self.scratch.clear();
        self.scratch
            .extend_from_slice(&self.maps[state as usize * w..(state as usize + 1) * w]);
        self.scratch[key as usize] = new;
        let next = self.intern_scratch(hash);
        self.steps.insert((state, key, new), next);
        Some(next)
    }

    fn read_only((_, op): Self::Op) -> bool {
        M::read_only(op)
    }

    fn key((key, _): Self::Op) -> u32 {
        key
    }

    fn show_state(&self, state: u32) -> String {
        let parts: Vec<String> = self
            .components(state)
            .iter()
            .enumerate()
            .map(|(k, &c)| {
                format!(
                    "{}: {}",
                    self.keys[k].as_deref().unwrap_or("-"),
                    self.inner.show_state(c)
                )
            })
            .collect();
        format!("{{{}}}", parts.join(", "))
    }

    fn explain(&self, state: u32, (key, op): Self::Op) -> String {
        let name = self.keys[key as usize].as_deref().unwrap_or("-");
        let comp = self.components(state)[key as usize];
        format!("key {name}: {}", self.inner.explain(comp, op))
    }
}
