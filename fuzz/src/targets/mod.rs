//! The fuzz targets and their registry.
//!
//! A [`Target`] names one parser, says how to feed it (`run` must never
//! panic: a panic is a finding), gives its seed inputs (generated in code and
//! read from `fuzz/corpus/<name>/`) and a dictionary of tokens the mutator
//! splices in. To fuzz a new parser: write its `run` and `seeds`, declare a
//! `Target`, add it to [`TARGETS`] and add one `short_pass!` line to
//! `fuzz/tests/fuzz_short.rs`.

mod history;
mod hosts;
mod rpc;
mod scratch;
mod storage;
mod system;

use std::path::PathBuf;

/// How the mutator should treat a target's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Text (histories): random bytes are mostly printable ASCII, and line
    /// mutations apply.
    Text,
    /// Binary (frames, WAL): any byte, integer and varint mutations apply.
    Binary,
}

/// One fuzz target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The name used on the command line and in reports.
    pub name: &'static str,
    /// One line: the parser and how the input reaches it.
    pub about: &'static str,
    pub kind: InputKind,
    /// Feed one input to the parser. Errors are fine; a panic is a finding.
    pub run: fn(&[u8]),
    /// Seed inputs made in code (valid and near-valid inputs).
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Tokens the mutator inserts and overwrites with.
    pub dictionary: &'static [&'static [u8]],
    /// Inputs of the suite's short pass (`cargo test`): sized so that all
    /// targets together stay well under 30 s on 2 cores.
    pub short_inputs: u64,
}

impl Target {
    /// The seeds made in code followed by the files of `fuzz/corpus/<name>/`
    /// (sorted by name, so the order is deterministic).
    pub fn all_seeds(&self) -> Vec<Vec<u8>> {
        let mut seeds = (self.seeds)();
        let dir = corpus_dir().join(self.name);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            paths.sort();
            for path in paths {
                if let Ok(bytes) = std::fs::read(&path) {
                    seeds.push(bytes);
                }
            }
        }
        if seeds.is_empty() {
            seeds.push(Vec::new());
        }
        seeds
    }
}

/// `fuzz/corpus/`: seed files checked into the repository.
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Every target, in the order reports list them.
pub const TARGETS: &[Target] = &[
    history::JSONL,
    history::PORCUPINE_KV,
    history::JEPSEN_ETCD,
    history::JEPSEN_EDN,
    rpc::STREAM,
    rpc::FRAME,
    storage::WAL_SEGMENT,
    storage::WAL_RECORDS,
    storage::HARDSTATE_FILE,
    storage::SNAPSHOT_FILE,
    system::SYSTEM_FILE,
    system::ADAPTER_ANSWER,
    hosts::HOSTS_FILE,
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
