//! Each planted Raft bug is found by the random simulator within 500 seeds
//! (5 servers, 10,000 steps per seed), and the report names the seed, the
//! property and the events that led there.

use faultline_raft::{BugSet, RaftBug, ReadMode};
use faultline_sim::{Property, SimOptions, run_seeds};

fn finds(bug: RaftBug, expected: &[Property]) {
    let mut opts = SimOptions::new(5, 10_000, BugSet::from([bug]));
    if bug.needs_lease() {
        opts.read_mode = ReadMode::Lease;
        opts.clock_drift_pct = 40;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let summary = run_seeds(&opts, 0, 500, threads, true).unwrap();
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
