//! Runs without membership changes are exactly what they were before
//! membership changes existed in the simulator: a digest of every seed's
//! outcome and full trace (correct core and each planted bug) is pinned,
//! so any change that makes such runs draw or do anything differently
//! shows here.

use faultline_raft::{BugSet, RaftBug};
use faultline_sim::{SimOptions, Trace, run_seed};

/// The digest of seeds `0..count` of `bugs`: steps, commits, violation and
/// the hash of every trace line, folded in seed order.
fn digest(bugs: BugSet, count: u64) -> u64 {
    let opts = SimOptions::new(5, 3_000, bugs);
    let mut d = 0u64;
    for seed in 0..count {
        let out = run_seed(&opts, seed, Trace::keeping(0)).unwrap();
        let v = out
            .violation
            .map(|v| (v.property as u64) << 32 | v.step)
            .unwrap_or(u64::MAX);
        for x in [out.steps, out.commits, v, out.trace_hash, out.trace_lines] {
            d = d.rotate_left(7) ^ x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    d
}

#[test]
fn runs_without_membership_changes_are_unchanged() {
    let got: Vec<u64> = [
        BugSet::new(),
        BugSet::from([RaftBug::Figure8]),
        BugSet::from([RaftBug::NoLogCheck]),
    ]
    .into_iter()
    .map(|b| digest(b, 12))
    .collect();
    println!("{got:?}");
    assert_eq!(got, PINNED);
}

/// Measured on the simulator before membership changes were added to it.
const PINNED: [u64; 3] = [
    4130512995132315985,
    17828051240932872821,
    16805474300398382276,
];
