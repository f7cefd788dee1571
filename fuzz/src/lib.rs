//! Fuzzing of every parser that reads outside input: the four history
//! formats, the RPC handshake and frame decoder, the WAL segment reader and
//! replay, and the `hardstate` / `snapshot` file readers.
//!
//! - [`targets`] holds one [`Target`] per parser (what it feeds, its seed
//!   inputs, its dictionary) and the [`TARGETS`] registry; adding a parser is
//!   one function, one `Target` and one line in the registry.
//! - [`mutate`] makes input number `i` of a seeded run: purely random bytes,
//!   or a seed changed by stacked structure-aware mutations (bit flips,
//!   truncation, splices, dictionary tokens, hostile lengths, nesting bombs).
//! - [`runner`] feeds a target for a number of inputs or a time budget,
//!   catches and counts panics (and reports the input an abort happened on),
//!   and returns a [`RunReport`].
//!
//! The same targets run in three places: the suite's short pass
//! (`fuzz/tests/fuzz_short.rs`), the long in-process pass
//! (`scripts/fuzz.sh`, the `faultline-fuzz` binary) and the coverage-guided
//! AFL++ pass (`scripts/fuzz.sh --engine afl`, `fuzz/afl/`).

pub mod mutate;
pub mod runner;
pub mod targets;

pub use runner::{PanicSite, RunOptions, RunReport, run};
pub use targets::{InputKind, TARGETS, Target, target};
