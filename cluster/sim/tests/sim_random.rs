//! The random simulator on the correct core: the same seed gives the same
//! trace, results do not depend on the thread count, and a batch of seeds
//! under the full fault schedule finds no violation.

use faultline_raft::BugSet;
use faultline_sim::{SimOptions, Trace, run_seed, run_seeds};

fn opts(steps: u64) -> SimOptions {
    SimOptions::new(5, steps, BugSet::new())
}

#[test]
fn same_seed_gives_the_same_trace() {
    let o = opts(4_000);
    for seed in [1, 7, 42] {
        let a = run_seed(&o, seed, Trace::keeping(0)).unwrap();
        let b = run_seed(&o, seed, Trace::keeping(0)).unwrap();
        assert!(
            a.trace_lines > 1_000,
            "seed {seed}: only {} trace lines",
            a.trace_lines
        );
        assert_eq!(
            a.trace_hash, b.trace_hash,
            "seed {seed} is not deterministic"
        );
        assert_eq!(a.steps, b.steps);
        assert_eq!(a.commits, b.commits);
        // Tracing must not change the run.
        let fast = run_seed(&o, seed, Trace::off()).unwrap();
        assert_eq!((fast.steps, fast.commits), (a.steps, a.commits));
    }
    let a = run_seed(&o, 1, Trace::keeping(0)).unwrap();
    let c = run_seed(&o, 2, Trace::keeping(0)).unwrap();
    assert_ne!(a.trace_hash, c.trace_hash, "different seeds should differ");
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let o = opts(2_000);
    let one = run_seeds(&o, 100, 6, 1, false).unwrap();
    let three = run_seeds(&o, 100, 6, 3, false).unwrap();
    assert_eq!(one, three);
    assert_eq!(one.seeds, 6);
}

#[test]
fn fifty_seeds_on_the_correct_core_find_no_violation() {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let summary = run_seeds(&opts(10_000), 0, 50, threads, true).unwrap();
    if let Some(f) = &summary.first_violation {
        panic!(
            "seed {}: {} — {}\n{}",
            f.seed,
            f.violation.property,
            f.violation.detail,
            f.trace.join("\n")
        );
    }
    assert_eq!(summary.seeds, 50);
    assert!(
        summary.commits > 50 * 20,
        "too little progress: {} commits",
        summary.commits
    );
}

#[test]
fn bad_options_are_refused() {
    let mut o = opts(10);
    o.servers = 0;
    assert!(run_seed(&o, 1, Trace::off()).is_err());
    o.servers = 3;
    o.steps = 0;
    assert!(run_seeds(&o, 1, 1, 1, false).is_err());
}

#[test]
fn the_correct_core_stays_safe_and_live_through_membership_changes() {
    let mut o = opts(10_000);
    o.conf_changes = true;
    o.spares = 1;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let summary = run_seeds(&o, 0, 300, threads, true).unwrap();
    if let Some(f) = &summary.first_violation {
        panic!(
            "seed {}: {} — {}\n{}",
            f.seed,
            f.violation.property,
            f.violation.detail,
            f.trace.join("\n")
        );
    }
    assert_eq!(summary.seeds, 300);
    println!(
        "membership changes, correct core: {} seeds, {} commits, 0 violations",
        summary.seeds, summary.commits
    );
    assert!(summary.commits > 300 * 20, "{} commits", summary.commits);
    // The operator did change the membership, and runs replay exactly.
    let a = run_seed(&o, 3, Trace::keeping(400)).unwrap();
    let b = run_seed(&o, 3, Trace::keeping(0)).unwrap();
    assert_eq!((a.trace_hash, a.steps), (b.trace_hash, b.steps));
    let changed = (0..10u64).any(|seed| {
        let out = run_seed(&o, seed, Trace::keeping(100_000)).unwrap();
        out.trace
            .iter()
            .any(|l| l.contains("operator conf change") && l.contains(": index"))
    });
    assert!(changed, "no membership change was accepted in 10 seeds");
}
