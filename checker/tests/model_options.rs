//! Budgets of the model's actions: heartbeat timeouts are offered to a
//! leader only while the heartbeat budget lasts, and the elections budget
//! caps campaigns below what `max_term` alone allows.

use faultline_checker::raft_model::{
    Action, ModelState, RaftModel, RaftModelOptions, SearchOptions, StopWhen, Strategy, Verdict,
    check,
};
use faultline_raft::Role;
use stateright::Model;

fn actions(model: &RaftModel, s: &ModelState) -> Vec<Action> {
    let mut a = Vec::new();
    model.actions(s, &mut a);
    a
}

/// Follow the first enabled action of `pick` until `done`.
fn walk(
    model: &RaftModel,
    mut s: ModelState,
    pick: impl Fn(&Action) -> bool,
    done: impl Fn(&ModelState) -> bool,
) -> ModelState {
    for _ in 0..50 {
        if done(&s) {
            return s;
        }
        let a = actions(model, &s)
            .into_iter()
            .find(|a| pick(a))
            .expect("an action to take");
        s = model.next_state(&s, a).unwrap();
    }
    panic!("not done after 50 steps: {s:?}");
}

fn with_leader(opts: RaftModelOptions) -> (RaftModel, ModelState) {
    let model = RaftModel::new(opts).unwrap();
    let s = walk(
        &model,
        model.init_state(),
        |a| matches!(a, Action::Timeout(_) | Action::Deliver(_)),
        |s| s.servers.iter().any(|x| x.core.role() == Role::Leader),
    );
    (model, s)
}

#[test]
fn heartbeats_are_offered_while_the_budget_lasts() {
    let (model, s) = with_leader(RaftModelOptions {
        lossy: true,
        heartbeats: 2,
        ..Default::default()
    });
    let beat = |s: &ModelState| {
        actions(&model, s)
            .into_iter()
            .find(|a| matches!(a, Action::Heartbeat(_)))
    };
    let s1 = model.next_state(&s, beat(&s).unwrap()).unwrap();
    assert_eq!(s1.heartbeats, 1);
    let s2 = model.next_state(&s1, beat(&s1).unwrap()).unwrap();
    assert_eq!(s2.heartbeats, 2);
    assert_eq!(beat(&s2), None, "budget spent");
    let (model0, s0) = with_leader(RaftModelOptions {
        lossy: true,
        heartbeats: 0,
        ..Default::default()
    });
    assert!(
        !actions(&model0, &s0)
            .iter()
            .any(|a| matches!(a, Action::Heartbeat(_)))
    );
}

#[test]
fn under_loss_heartbeats_add_behaviours_and_the_properties_still_hold() {
    // Lossy, one term, logs of one entry (the Noop): without heartbeats a
    // lost append is lost for good; with them the leader resends it, which
    // adds behaviours. The properties hold either way.
    let run = |heartbeats| {
        check(
            RaftModelOptions {
                max_term: 1,
                max_log: 1,
                proposals: 0,
                lossy: true,
                heartbeats,
                ..Default::default()
            },
            SearchOptions {
                threads: 2,
                stop: StopWhen::Exhausted,
                strategy: Strategy::Bfs,
                max_depth: None,
                max_states: None,
            },
        )
        .unwrap()
    };
    let none = run(0);
    let some = run(1);
    assert_eq!(none.verdict(), Verdict::Holds, "{none:?}");
    assert_eq!(some.verdict(), Verdict::Holds, "{some:?}");
    assert!(some.unique_states > none.unique_states);
}

#[test]
fn the_elections_budget_caps_campaigns() {
    let model = RaftModel::new(RaftModelOptions {
        max_term: 5,
        elections: Some(2),
        ..Default::default()
    })
    .unwrap();
    let s = walk(
        &model,
        model.init_state(),
        |a| matches!(a, Action::Timeout(_)),
        |s| s.elections == 2,
    );
    assert!(
        !actions(&model, &s)
            .iter()
            .any(|a| matches!(a, Action::Timeout(_))),
        "no third campaign"
    );
}
