//! Shortest traces. stateright's breadth-first checker finds every
//! discovery, but keeps the *last* state it saw for each property (later
//! states overwrite earlier ones, and a violation recorded in the ghost
//! state is inherited by every later state), so its paths are valid but
//! not shortest. Given the properties it discovered and how deep, this
//! module searches again, breadth first and only as deep as needed, for
//! the first state that shows each one: a shortest trace.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use stateright::Model;

use crate::raft_model::action::Action;
use crate::raft_model::model::RaftModel;
use crate::raft_model::properties::NamedProperty;
use crate::raft_model::state::ModelState;

/// A path: each state with the action taken from it (None for the last).
pub type StatePath = Vec<(ModelState, Option<Action>)>;

type Fp = u64;

fn fingerprint(s: &ModelState) -> Fp {
    // SipHash with fixed keys: deterministic across runs.
    BuildHasherDefault::<DefaultHasher>::default().hash_one(s)
}

/// Whether `state` shows `property`: violates an invariant, or reaches a goal.
pub fn shows(property: NamedProperty, state: &ModelState) -> bool {
    match property {
        NamedProperty::Always(inv) => inv.violation(state).is_some(),
        NamedProperty::Sometimes(goal) => goal.reached(state),
    }
}

/// For each of `wanted`, a shortest path from the initial state to a state
/// that shows it, searching at most `max_depth` steps deep. Properties not
/// shown within that depth are absent from the result.
pub fn shortest_paths(
    model: &RaftModel,
    wanted: &[NamedProperty],
    max_depth: usize,
) -> HashMap<&'static str, StatePath> {
    let mut found: HashMap<&'static str, StatePath> = HashMap::new();
    // fingerprint -> (parent fingerprint, index of the action in the
    // parent's action list); the initial state has no parent.
    let mut parents: HashMap<Fp, Option<(Fp, usize)>> = HashMap::new();
    let init = model.init_state();
    let init_fp = fingerprint(&init);
    parents.insert(init_fp, None);
    let mut frontier = vec![(init, init_fp)];
    let mut depth = 0;
    let mut actions = Vec::new();
    loop {
        for (state, fp) in &frontier {
            for &p in wanted {
                if !found.contains_key(p.name()) && shows(p, state) {
                    found.insert(p.name(), rebuild(model, &parents, *fp));
                }
            }
        }
        if found.len() == wanted.len() || depth >= max_depth || frontier.is_empty() {
            return found;
        }
        let mut next = Vec::new();
        for (state, fp) in &frontier {
            actions.clear();
            model.actions(state, &mut actions);
            for (k, a) in actions.drain(..).enumerate() {
                let Some(n) = model.next_state(state, a) else {
                    continue;
                };
                if !model.within_boundary(&n) {
                    continue;
                }
                let nfp = fingerprint(&n);
                if let std::collections::hash_map::Entry::Vacant(e) = parents.entry(nfp) {
                    e.insert(Some((*fp, k)));
                    next.push((n, nfp));
                }
            }
        }
        frontier = next;
        depth += 1;
    }
}

/// Replay the actions that lead from the initial state to `target`.
fn rebuild(model: &RaftModel, parents: &HashMap<Fp, Option<(Fp, usize)>>, target: Fp) -> StatePath {
    let mut indexes = Vec::new();
    let mut at = target;
    while let Some(Some((parent, k))) = parents.get(&at) {
        indexes.push(*k);
        at = *parent;
    }
    indexes.reverse();
    let mut path = Vec::with_capacity(indexes.len() + 1);
    let mut state = model.init_state();
    for k in indexes {
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        let action = actions.swap_remove(k);
        let next = model
            .next_state(&state, action.clone())
            .expect("a recorded step applies again: the model is deterministic");
        path.push((state, Some(action)));
        state = next;
    }
    path.push((state, None));
    path
}

/// Shorten a counterexample found by depth-first search or simulation
/// (`path`, in real names, see `RaftModel::real_path`): cut it at the first
/// state that shows `property`, then drop single steps as long as the rest
/// still replays (every action enabled, within the bounds) and still
/// reaches a state that shows it. Greedy, so not necessarily shortest, but
/// random walks lose most of their detours.
pub fn shrink(
    model: &RaftModel,
    path: &[(ModelState, Option<Action>)],
    property: NamedProperty,
) -> StatePath {
    let mut actions: Vec<Action> = path.iter().filter_map(|(_, a)| a.clone()).collect();
    let Some(mut best) = replay(model, &actions, property) else {
        return path.to_vec();
    };
    actions = best.iter().filter_map(|(_, a)| a.clone()).collect();
    loop {
        let mut shorter = false;
        let mut i = 0;
        while i < actions.len() {
            let mut candidate = actions.clone();
            candidate.remove(i);
            match replay(model, &candidate, property) {
                Some(p) => {
                    actions = p.iter().filter_map(|(_, a)| a.clone()).collect();
                    best = p;
                    shorter = true;
                }
                None => i += 1,
            }
        }
        if !shorter {
            return best;
        }
    }
}

/// Replay `actions` from the initial state without symmetry reduction; the
/// path up to the first state that shows `property` (actions the model
/// refuses left out), or None if an action is not enabled, a state leaves
/// the bounds, or no state shows it.
fn replay(model: &RaftModel, actions: &[Action], property: NamedProperty) -> Option<StatePath> {
    let mut state = model.init_state();
    let mut path = Vec::with_capacity(actions.len() + 1);
    let mut enabled = Vec::new();
    for a in actions {
        if shows(property, &state) {
            break;
        }
        enabled.clear();
        model.actions(&state, &mut enabled);
        if !enabled.contains(a) {
            return None;
        }
        // An action the model refused (a walk may record one: a proposal
        // the core turned down) changes nothing: leave it out.
        let Some(next) = model.step_raw(&state, a) else {
            continue;
        };
        if !model.within_boundary(&next) {
            return None;
        }
        path.push((state, Some(a.clone())));
        state = next;
    }
    if !shows(property, &state) {
        return None;
    }
    path.push((state, None));
    Some(path)
}
