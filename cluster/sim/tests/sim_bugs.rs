//! Each planted Raft bug is found by the random simulator within 500 seeds
//! (5 servers, 10,000 steps per seed), and the report names the seed, the
//! property and the events that led there.

use faultline_raft::{BugSet, RaftBug, ReadMode};
use faultline_sim::{Property, SimOptions, Trace, replay, run_seed, run_seeds};

fn finds(bug: RaftBug, expected: &[Property]) {
    let mut opts = SimOptions::new(5, 10_000, BugSet::from([bug]));
    if bug.needs_lease() {
        opts.read_mode = ReadMode::Lease;
        opts.clock_drift_pct = 40;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let summary = run_seeds(&opts, 0, 500, threads, false).unwrap();
    println!(
        "reconfig-no-noop with membership changes: {} of {} seeds violate",
        summary.violations, summary.seeds
    );
    let Some(found) = summary.first_violation else {
        panic!("{bug}: no violation in 500 seeds");
    };
    assert!(
        expected.contains(&found.violation.property),
        "{bug}: unexpected property {} ({}) at seed {}",
        found.violation.property,
        found.violation.detail,
        found.seed
    );
    assert!(!found.trace.is_empty(), "{bug}: the violation has no trace");
    assert!(found.trace.last().is_some_and(|l| l.contains("VIOLATION")));
    println!(
        "{bug}: seed {} ({} seeds run): {} — {}",
        found.seed, summary.seeds, found.violation.property, found.violation.detail
    );
}

#[test]
fn figure8_is_found() {
    finds(
        RaftBug::Figure8,
        &[
            Property::LeaderCompleteness,
            Property::StateMachineSafety,
            Property::LogMatching,
        ],
    );
}

#[test]
fn forget_vote_is_found() {
    finds(
        RaftBug::ForgetVote,
        &[Property::ElectionSafety, Property::LogMatching],
    );
}

#[test]
fn no_log_check_is_found() {
    finds(
        RaftBug::NoLogCheck,
        &[
            Property::LeaderCompleteness,
            Property::StateMachineSafety,
            Property::LogMatching,
        ],
    );
}

#[test]
fn stale_read_index_is_found() {
    finds(RaftBug::StaleReadIndex, &[Property::ReadLinearizability]);
}

#[test]
fn lease_no_drift_margin_is_found() {
    finds(
        RaftBug::LeaseNoDriftMargin,
        &[Property::ReadLinearizability],
    );
}

#[test]
fn reconfig_no_noop_is_found_with_membership_changes() {
    // The bug needs membership changes: the operator's `reconfig_race`
    // pattern splits the network around two overlapping changes of two
    // leaders (the 2015 shape), and it asks new leaders for a change at
    // once, before their no-op commits.
    let mut opts = SimOptions::new(5, 10_000, BugSet::from([RaftBug::ReconfigNoNoop]));
    opts.conf_changes = true;
    opts.spares = 1;
    let safety = [
        Property::ElectionSafety,
        Property::LeaderCompleteness,
        Property::StateMachineSafety,
        Property::LogMatching,
    ];
    let mut found = Vec::new();
    for seed in 0..500 {
        let out = run_seed(&opts, seed, Trace::off()).unwrap();
        if let Some(v) = out.violation {
            found.push((seed, v.property));
        }
    }
    let unsafe_seeds = found.iter().filter(|(_, p)| safety.contains(p)).count();
    println!(
        "reconfig-no-noop with membership changes: {} of 500 seeds violate, {unsafe_seeds} of them a safety property; first {:?}",
        found.len(),
        found.first()
    );
    // Measured: 176 of 500 seeds, every one a safety property (174 Leader
    // Completeness, 1 State Machine Safety, 1 Election Safety; first: seed
    // 0, Leader Completeness). A floor well below that, so that a
    // simulator change that loses the pattern shows.
    assert!(
        unsafe_seeds >= 50,
        "reconfig-no-noop: only {unsafe_seeds} of 500 seeds break a safety property: {found:?}"
    );
    let &(seed, property) = found
        .iter()
        .find(|(_, p)| safety.contains(p))
        .expect("a safety violation");
    let explained = replay(&opts, seed).unwrap();
    assert_eq!(explained.violation.map(|v| v.property), Some(property));
    assert!(
        explained
            .trace
            .last()
            .is_some_and(|l| l.contains("VIOLATION")),
        "seed {seed} replays to its violation: {:#?}",
        explained.trace
    );
    // The correct core, same options: no violation of any kind (the full
    // 300- and 1,000-seed runs are README rows).
    let mut correct = opts.clone();
    correct.bugs = BugSet::new();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let clean = run_seeds(&correct, 0, 100, threads, false).unwrap();
    assert_eq!(clean.violations, 0, "{:?}", clean.first_violation);
    // Without membership changes the bug has nothing to act on.
    opts.conf_changes = false;
    opts.spares = 0;
    let quiet = run_seeds(&opts, 0, 20, threads, false).unwrap();
    assert_eq!(quiet.violations, 0);
}
