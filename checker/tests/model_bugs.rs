//! Every planted bug of the Raft layer is caught by the model checker at
//! the bounds named in `faultline bugs`, with a trace, and the correct core
//! passes the same bounds.

use faultline_checker::model::{
    ModelRun, RaftModelOptions, SearchOptions, StopWhen, Strategy, Verdict, check,
};
use faultline_raft::{BugSet, RaftBug};

fn run(opts: RaftModelOptions) -> ModelRun {
    check(
        opts,
        SearchOptions {
            threads: 1,
            stop: StopWhen::FirstViolation,
            strategy: Strategy::Bfs,
            max_depth: None,
            max_states: None,
        },
    )
    .unwrap()
}

fn with_bug(bug: RaftBug, opts: RaftModelOptions) -> RaftModelOptions {
    RaftModelOptions {
        bugs: BugSet::from([bug]),
        ..opts
    }
}

/// The bug is caught: `property` is violated with a trace, which
/// `expect_in_trace` (a fragment of some step) confirms is about the bug.
fn assert_caught(bug: RaftBug, opts: RaftModelOptions, property: &str, expect_in_trace: &str) {
    let result = run(with_bug(bug, opts));
    assert_eq!(result.verdict(), Verdict::Violated, "{bug} not caught");
    let p = result.property(property).unwrap();
    assert_eq!(p.holds, Some(false), "{bug}: {property} holds: {result:?}");
    let trace = p.trace.as_ref().unwrap();
    assert!(!trace.is_empty());
    let text: Vec<&str> = trace.iter().map(|s| s.step.as_str()).collect();
    assert!(
        text.iter().any(|s| s.contains(expect_in_trace)),
        "{bug}: no step mentions {expect_in_trace:?}: {text:#?}"
    );
}

#[test]
fn the_correct_core_passes_the_forget_vote_bounds() {
    let run = run(RaftModelOptions {
        max_term: 1,
        max_log: 1,
        crashes: 1,
        proposals: 0,
        reads: 0,
        ..Default::default()
    });
    assert!(run.complete);
    assert_eq!(run.verdict(), Verdict::Holds, "{run:?}");
}

#[test]
fn forget_vote_is_caught_as_two_leaders_in_a_term() {
    // A voter crashes, forgets its vote, and votes again in the same term.
    assert_caught(
        RaftBug::ForgetVote,
        RaftModelOptions {
            max_term: 1,
            max_log: 1,
            crashes: 1,
            proposals: 0,
            reads: 0,
            ..Default::default()
        },
        "election-safety",
        "crashes and restarts",
    );
}

#[test]
fn no_log_check_is_caught_as_a_leader_missing_a_committed_entry() {
    assert_caught(
        RaftBug::NoLogCheck,
        RaftModelOptions {
            max_term: 2,
            max_log: 2,
            crashes: 0,
            proposals: 1,
            reads: 0,
            ..Default::default()
        },
        "leader-completeness",
        "RequestVote{term:2",
    );
}

#[test]
fn stale_read_index_is_caught_as_a_non_linearizable_read() {
    // A new leader answers a read at its stale commit index, before it has
    // committed in its term: the acknowledged write is not seen.
    assert_caught(
        RaftBug::StaleReadIndex,
        RaftModelOptions {
            max_term: 2,
            max_log: 3,
            crashes: 0,
            proposals: 1,
            reads: 1,
            ..Default::default()
        },
        "linearizable-reads",
        "client reads at",
    );
}
