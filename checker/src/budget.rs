//! Limits on one check: a wall-clock deadline, a cap on memo memory, and a
//! shared stop flag (set when another partition was found invalid).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub struct Budget<'a> {
    pub deadline: Option<Instant>,
    pub timeout: Option<Duration>,
    /// Memo bytes allowed for one partition's search.
    pub max_memo_bytes: usize,
    pub stop: &'a AtomicBool,
}

/// Why a search ended early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exhausted {
    Time(Duration),
    Memory { bytes: usize, entries: usize },
    Stopped,
}

impl Budget<'_> {
    /// Checks the limits; called every few thousand search steps.
    pub fn exhausted(&self, memo_bytes: usize, memo_entries: usize) -> Option<Exhausted> {
        if self.stop.load(Ordering::Relaxed) {
            return Some(Exhausted::Stopped);
        }
        if memo_bytes > self.max_memo_bytes {
            return Some(Exhausted::Memory {
                bytes: memo_bytes,
                entries: memo_entries,
            });
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => {
                Some(Exhausted::Time(self.timeout.unwrap_or_default()))
            }
            _ => None,
        }
    }
}
