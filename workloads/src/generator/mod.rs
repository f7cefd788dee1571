//! Operation generators: seeded, so a seed replays the same sequence of
//! operations (which process runs which one depends on timing, as in Jepsen).
//!
//! Both workloads keep a few keys active at once and retire a key after a
//! bounded number of operations, moving on to a fresh one: every key's
//! sub-history stays small, so the per-key linearizability check stays cheap.

mod append;
mod keys;
mod register;

pub use append::Append;
pub use keys::KeyRotation;
pub use register::Register;

use crate::error::WorkloadError;
use crate::op::Op;

/// Produces the next operation to run.
pub trait Generator: Send {
    fn next_op(&mut self) -> Op;
    /// Every key an operation has been generated for, in first-use order
    /// (the final reads read each once).
    fn keys(&self) -> Vec<String>;
}

/// Which workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// get / put / cas on integer registers, independent keys.
    Register,
    /// get / put / append of unique strings on a small key set.
    Append,
}

impl WorkloadKind {
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Register => "register",
            WorkloadKind::Append => "append",
        }
    }

    /// The checker model (faultline-checker `ModelKind` name) for its histories.
    pub fn model(self) -> &'static str {
        match self {
            WorkloadKind::Register => "cas-register",
            WorkloadKind::Append => "kv",
        }
    }

    /// Default operations per key before moving to a fresh key.
    pub fn default_ops_per_key(self) -> u64 {
        match self {
            WorkloadKind::Register => 200,
            WorkloadKind::Append => 400,
        }
    }

    /// Default number of keys in use at once.
    pub fn default_keys(self) -> usize {
        match self {
            WorkloadKind::Register => 2,
            WorkloadKind::Append => 3,
        }
    }
}

/// What a generator is built from.
#[derive(Debug, Clone)]
pub struct WorkloadOptions {
    pub kind: WorkloadKind,
    pub seed: u64,
    /// Keys in use at once (at least 1).
    pub keys: usize,
    /// Operations per key before it is retired (at least 1).
    pub ops_per_key: u64,
}

impl WorkloadOptions {
    /// Options with the workload's defaults.
    pub fn new(kind: WorkloadKind, seed: u64) -> WorkloadOptions {
        WorkloadOptions {
            kind,
            seed,
            keys: kind.default_keys(),
            ops_per_key: kind.default_ops_per_key(),
        }
    }

    /// Build the generator; refuses zero keys or zero operations per key.
    pub fn build(&self) -> Result<Box<dyn Generator>, WorkloadError> {
        if self.keys == 0 {
            return Err(WorkloadError::Option("--keys must be at least 1".into()));
        }
        if self.ops_per_key == 0 {
            return Err(WorkloadError::Option(
                "--ops-per-key must be at least 1".into(),
            ));
        }
        let rotation = KeyRotation::new(self.kind, self.keys, self.ops_per_key);
        Ok(match self.kind {
            WorkloadKind::Register => Box::new(Register::new(self.seed, rotation)),
            WorkloadKind::Append => Box::new(Append::new(self.seed, rotation)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(kind: WorkloadKind, seed: u64, n: usize) -> Vec<Op> {
        let mut g = WorkloadOptions::new(kind, seed).build().unwrap();
        (0..n).map(|_| g.next_op()).collect()
    }

    #[test]
    fn same_seed_same_ops_other_seed_other_ops() {
        for kind in [WorkloadKind::Register, WorkloadKind::Append] {
            assert_eq!(ops(kind, 7, 500), ops(kind, 7, 500));
            assert_ne!(ops(kind, 7, 500), ops(kind, 8, 500));
        }
    }

    #[test]
    fn zero_keys_or_ops_per_key_is_refused() {
        let mut o = WorkloadOptions::new(WorkloadKind::Register, 1);
        o.keys = 0;
        assert!(o.build().is_err());
        let mut o = WorkloadOptions::new(WorkloadKind::Append, 1);
        o.ops_per_key = 0;
        assert!(o.build().is_err());
    }
}
