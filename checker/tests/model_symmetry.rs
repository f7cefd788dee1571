//! Symmetry reduction is sound and complete: the states the reduced model
//! explores are exactly the representatives of the states the full model
//! reaches, renaming a state and renaming it back gives it again, and a
//! trace found through representatives replays, step by step, in the full
//! model with the names of the initial state.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use faultline_checker::raft_model::symmetry::canonicalize;
use faultline_checker::raft_model::{Action, ModelState, RaftModel, RaftModelOptions};
use faultline_raft::Renaming;
use stateright::Model;

fn fp(s: &ModelState) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(s)
}

/// Every state reachable in `model` (breadth first, within its boundary).
fn reachable(model: &RaftModel) -> Vec<ModelState> {
    let init = model.init_state();
    let mut seen = HashSet::from([fp(&init)]);
    let mut all = vec![init];
    let mut k = 0;
    let mut actions = Vec::new();
    while k < all.len() {
        actions.clear();
        model.actions(&all[k], &mut actions);
        for a in actions.drain(..) {
            if let Some(n) = model.next_state(&all[k], a)
                && model.within_boundary(&n)
                && seen.insert(fp(&n))
            {
                all.push(n);
            }
        }
        k += 1;
    }
    all
}

fn both(opts: RaftModelOptions) -> (RaftModel, RaftModel) {
    let reduced = RaftModel::new(RaftModelOptions {
        symmetry: true,
        ..opts.clone()
    })
    .unwrap();
    let full = RaftModel::new(RaftModelOptions {
        symmetry: false,
        ..opts
    })
    .unwrap();
    (reduced, full)
}

fn assert_reduced_space_is_the_canonical_full_space(opts: RaftModelOptions) {
    let (reduced, full) = both(opts.clone());
    let full_states = reachable(&full);
    let reduced_states = reachable(&reduced);
    let canonical: HashSet<u64> = full_states
        .iter()
        .map(|s| fp(&canonicalize(s.clone()).0))
        .collect();
    let explored: HashSet<u64> = reduced_states.iter().map(fp).collect();
    assert_eq!(
        explored.len(),
        reduced_states.len(),
        "no fingerprint collisions"
    );
    assert!(
        explored == canonical,
        "{}: reduced {} states, canonical forms of the full space {}, {} only in the reduced, {} only in the full",
        opts.describe(),
        explored.len(),
        canonical.len(),
        explored.difference(&canonical).count(),
        canonical.difference(&explored).count()
    );
    assert!(
        explored.len() * 2 < full_states.len(),
        "{}: {} vs {}",
        opts.describe(),
        explored.len(),
        full_states.len()
    );
}

#[test]
fn reduced_space_is_exactly_the_representatives_of_the_full_space() {
    assert_reduced_space_is_the_canonical_full_space(RaftModelOptions {
        max_term: 1,
        max_log: 2,
        proposals: 1,
        ..Default::default()
    });
    assert_reduced_space_is_the_canonical_full_space(RaftModelOptions {
        max_term: 2,
        max_log: 1,
        proposals: 0,
        ..Default::default()
    });
    assert_reduced_space_is_the_canonical_full_space(RaftModelOptions {
        max_term: 1,
        max_log: 1,
        proposals: 1,
        lossy: true,
        heartbeats: 1,
        ..Default::default()
    });
    assert_reduced_space_is_the_canonical_full_space(RaftModelOptions {
        max_term: 1,
        max_log: 1,
        proposals: 0,
        pre_vote: true,
        elections: Some(2),
        ..Default::default()
    });
}

#[test]
fn with_membership_changes_and_a_spare_the_reduction_stays_exact() {
    // Voters are renamed among voters, the spare among spares (here: only
    // itself), and membership entries name servers: the reduced space is
    // still exactly the representatives of the full one.
    assert_reduced_space_is_the_canonical_full_space(RaftModelOptions {
        servers: 3,
        spares: 1,
        conf_changes: 1,
        max_term: 1,
        max_log: 2,
        proposals: 0,
        ..Default::default()
    });
    assert_reduced_space_is_the_canonical_full_space(RaftModelOptions {
        servers: 3,
        spares: 0,
        conf_changes: 2,
        max_term: 2,
        max_log: 2,
        proposals: 0,
        bugs: faultline_raft::BugSet::from([faultline_raft::RaftBug::ReconfigNoNoop]),
        ..Default::default()
    });
}

#[test]
fn renaming_a_state_and_back_gives_it_again() {
    let (reduced, _) = both(RaftModelOptions {
        max_term: 2,
        max_log: 1,
        proposals: 1,
        reads: 1,
        ..Default::default()
    });
    let states = reachable(&reduced);
    let swaps = [
        Renaming::new([(1, 2), (2, 1)]).unwrap(),
        Renaming::new([(1, 2), (2, 3), (3, 1)]).unwrap(),
    ];
    let mut moved = 0;
    for s in states.iter().step_by(97) {
        for r in &swaps {
            let renamed = s.relabel(r);
            assert_eq!(renamed.relabel(&r.inverse()), *s);
            moved += usize::from(renamed != *s);
            // Representatives do not depend on the names.
            assert_eq!(canonicalize(renamed).0, canonicalize(s.clone()).0);
        }
    }
    assert!(moved > 0, "some renamings change the state");
}

#[test]
fn found_traces_replay_in_the_full_model_with_real_names() {
    let (reduced, full) = both(RaftModelOptions {
        max_term: 2,
        max_log: 2,
        proposals: 1,
        ..Default::default()
    });
    // Walks through representatives: each step takes the k-th action.
    for seed in 0..20u64 {
        let mut path: Vec<(ModelState, Option<Action>)> = Vec::new();
        let mut s = reduced.init_state();
        for step in 0..25u64 {
            let mut actions = Vec::new();
            reduced.actions(&s, &mut actions);
            if actions.is_empty() {
                break;
            }
            let a = actions[((seed * 31 + step * 7) % actions.len() as u64) as usize].clone();
            let Some(n) = reduced.next_state(&s, a.clone()) else {
                break;
            };
            path.push((s, Some(a)));
            s = n;
        }
        path.push((s, None));
        let real = reduced.real_path(&path);
        assert_eq!(real.len(), path.len());
        for (k, w) in real.windows(2).enumerate() {
            let (state, action) = (&w[0].0, w[0].1.clone().unwrap());
            let mut enabled = Vec::new();
            full.actions(state, &mut enabled);
            assert!(
                enabled.contains(&action),
                "seed {seed} step {k}: {action:?}"
            );
            assert_eq!(full.next_state(state, action).as_ref(), Some(&w[1].0));
            // The real state is a renaming of the one found.
            assert_eq!(canonicalize(w[1].0.clone()).0, path[k + 1].0);
        }
    }
}
