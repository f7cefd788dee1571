//! `RaftModel`: the stateright `Model` whose servers are `faultline-raft`
//! cores. A custom `Model` rather than stateright's actor framework: the
//! core is already a pure state machine with its own Ready protocol, so
//! wrapping it in actors would add a second message layer and timer model
//! and hide the disk; driving `RawNode` directly keeps the state small (the
//! cores, their disks, one set of messages) and each step cheap.
//!
//! With `--conf-changes N`, a leader may also propose a single-server
//! membership change (add any server outside its voters, spares
//! included, or remove any voter); the core's own rules decide whether it
//! is accepted, so a planted bug that loosens them shows in the model.
//!
//! Timers fire nondeterministically: `Timeout(n)` makes a follower or
//! candidate campaign (what its election timer would do), `Heartbeat(n)`
//! ticks a leader through one election period. Nothing else ticks, so the
//! tick counters inside the cores stay put and do not split states.

use std::sync::Arc;

use faultline_raft::testkit::MemDisk;
use faultline_raft::testkit::safety::leader_append_only;
use faultline_raft::{
    ConfChange, Config, NodeId, PersistedState, RaftError, RawNode, Renaming, Role,
};
use stateright::{Model, Property};

use crate::raft_model::action::Action;
use crate::raft_model::dead_messages;
use crate::raft_model::driver::drive;
use crate::raft_model::error::ModelError;
use crate::raft_model::network::Network;
use crate::raft_model::options::{ELECTION_TICK, RaftModelOptions};
use crate::raft_model::properties::{Goal, Invariant};
use crate::raft_model::render;
use crate::raft_model::state::{ModelState, Server, index_of};
use crate::raft_model::symmetry::{all_servers_interchangeable, canonicalize, relabel_action};

/// The Raft model over `servers` real cores.
#[derive(Debug, Clone)]
pub struct RaftModel {
    opts: RaftModelOptions,
    configs: Vec<Config>,
}

impl RaftModel {
    /// A model with these bounds; refuses bad bounds.
    pub fn new(opts: RaftModelOptions) -> Result<RaftModel, ModelError> {
        opts.validate()?;
        let configs: Vec<Config> = opts.ids().map(|id| opts.core_config(id)).collect();
        for c in &configs {
            RawNode::new(c.clone(), PersistedState::default())?;
        }
        Ok(RaftModel { opts, configs })
    }

    pub fn options(&self) -> &RaftModelOptions {
        &self.opts
    }

    /// The initial state: every server fresh, nothing in flight.
    pub fn init_state(&self) -> ModelState {
        let servers = self
            .configs
            .iter()
            .map(|c| {
                let core = RawNode::new(c.clone(), PersistedState::default())
                    .expect("configuration checked in RaftModel::new");
                Arc::new(Server {
                    core,
                    disk: MemDisk::default(),
                })
            })
            .collect();
        ModelState {
            servers,
            network: Network::default(),
            crashes: 0,
            proposals: 0,
            reads: 0,
            heartbeats: 0,
            elections: 0,
            conf_changes: 0,
            initial_voters: self.opts.servers,
            ghost: Default::default(),
            clients: Default::default(),
        }
    }

    /// Apply `action` to `state`; None when the action does not apply.
    /// With symmetry on, the result is the representative of its class
    /// (see `symmetry`).
    fn step(&self, state: &ModelState, action: &Action) -> Option<ModelState> {
        let next = self.step_raw(state, action)?;
        Some(if self.opts.symmetry {
            canonicalize(next).0
        } else {
            next
        })
    }

    /// A path the checker found (through representatives of classes),
    /// replayed with the names the initial state gave: the same history,
    /// each state and action renamed back, so a trace reads as one run.
    pub fn real_path(
        &self,
        path: &[(ModelState, Option<Action>)],
    ) -> Vec<(ModelState, Option<Action>)> {
        if !self.opts.symmetry || path.is_empty() {
            return path.to_vec();
        }
        let ids: Vec<NodeId> = self.opts.ids().collect();
        let mut real = Vec::with_capacity(path.len());
        // `to_real` renames the found path's names into the real ones.
        let mut to_real = Renaming::new([]).expect("the identity is a renaming");
        let mut state = path[0].0.clone();
        for (found, action) in path {
            let Some(action) = action else {
                real.push((state, None));
                return real;
            };
            let (Some(raw), real_action) = (
                self.step_raw(found, action),
                relabel_action(action, &to_real),
            ) else {
                return path.to_vec();
            };
            let Some(next) = self.step_raw(&state, &real_action) else {
                return path.to_vec();
            };
            // The found successor is `r` applied to `raw`; real names of
            // the successor's ids: first undo `r`, then `to_real`.
            let (_, r) = canonicalize(raw);
            let back = r.inverse();
            to_real = Renaming::new(ids.iter().map(|&i| (i, to_real.apply(back.apply(i)))))
                .expect("a composition of renamings is a renaming");
            real.push((state, Some(real_action)));
            state = next;
        }
        real
    }

    /// `step` without the symmetry reduction.
    pub(crate) fn step_raw(&self, state: &ModelState, action: &Action) -> Option<ModelState> {
        let mut next = state.clone();
        let id = match action {
            Action::Deliver(m) | Action::Duplicate(m) => {
                if !next.network.contains(m) {
                    return None;
                }
                if matches!(action, Action::Deliver(_)) {
                    next.network.remove(m);
                }
                let k = index_of(m.to);
                match Arc::make_mut(&mut next.servers[k]).core.step(m.clone()) {
                    Ok(()) => {}
                    // With membership changes, a leader ignores answers
                    // from servers it no longer tracks: the message is
                    // dropped, as a server would. Without them every
                    // sender is tracked.
                    Err(RaftError::UnknownPeer(from))
                        if from == m.from && self.opts.conf_changes > 0 => {}
                    Err(e) => Arc::make_mut(&mut next.ghost).violate(
                        Invariant::CoreContract,
                        format!("n{} refused {}: {e}", m.to, render::FORMAT.message(m)),
                    ),
                }
                m.to
            }
            Action::Drop(m) => {
                // Nothing else changes, so no message dies of it.
                return next.network.remove(m).then_some(next);
            }
            Action::Timeout(id) => {
                Arc::make_mut(&mut next.servers[index_of(*id)])
                    .core
                    .campaign();
                if self.opts.elections.is_some() {
                    next.elections += 1;
                }
                *id
            }
            Action::Heartbeat(id) => {
                let core = &mut Arc::make_mut(&mut next.servers[index_of(*id)]).core;
                for _ in 0..ELECTION_TICK {
                    core.tick();
                }
                next.heartbeats += 1;
                *id
            }
            Action::Crash(id) => {
                let server = Arc::make_mut(&mut next.servers[index_of(*id)]);
                let config = self.configs[index_of(*id)].clone();
                match RawNode::new(config, server.disk.persisted()) {
                    Ok(core) => server.core = core,
                    Err(e) => Arc::make_mut(&mut next.ghost).violate(
                        Invariant::CoreContract,
                        format!("n{id} cannot restart from its own disk: {e}"),
                    ),
                }
                next.crashes += 1;
                Arc::make_mut(&mut next.clients).disconnect(*id);
                *id
            }
            Action::Propose(id, value) => {
                let core = &mut Arc::make_mut(&mut next.servers[index_of(*id)]).core;
                let index = core.propose(vec![*value]).ok()?;
                Arc::make_mut(&mut next.clients).invoke_write(*id, index, *value);
                next.proposals += 1;
                *id
            }
            Action::ChangeConf(id, change) => {
                let core = &mut Arc::make_mut(&mut next.servers[index_of(*id)]).core;
                core.propose_conf_change(*change).ok()?;
                next.conf_changes += 1;
                *id
            }
            Action::Read(id) => {
                let term = next.server(*id).core.term();
                let ctx = Arc::make_mut(&mut next.clients).invoke_read(*id, term);
                let core = &mut Arc::make_mut(&mut next.servers[index_of(*id)]).core;
                core.read_index(ctx).ok()?;
                next.reads += 1;
                *id
            }
        };
        drive(&mut next, id);
        self.after_step(state, &mut next, id);
        if self.opts.collect_dead_messages {
            dead_messages::collect(&mut next);
        }
        Some(next)
    }

    /// Checks of the step that just changed server `id`, and bookkeeping.
    fn after_step(&self, before: &ModelState, next: &mut ModelState, id: NodeId) {
        let (was, now) = (&before.server(id).core, &next.server(id).core);
        let term = now.term();
        let leads = now.role() == Role::Leader;
        let led = was.role() == Role::Leader && was.term() == term;
        // Leader Append-Only: where a leader's log stopped being what it was.
        let overwrote = if leads && led {
            let (old, new) = (was.log_entries(), now.log_entries());
            let same = old.iter().zip(new).take_while(|(a, b)| a == b).count();
            let first_changed = old.get(same).map_or(was.last_index() + 1, |e| e.index);
            // A recorded text is part of the state: the model's own wording.
            leader_append_only(id, term, was.last_index(), first_changed)
                .err()
                .map(|b| {
                    let why = format!(
                        "leader n{id} of term {term} changed its log from {} to {}",
                        render::log(old),
                        render::log(new)
                    );
                    (b.property, why)
                })
        } else {
            None
        };
        if leads && !led {
            Arc::make_mut(&mut next.ghost).observe_leader(term, id);
        }
        if let Some((property, why)) = overwrote {
            Arc::make_mut(&mut next.ghost).violate(property.into(), why);
        }
        let leader_of = leads.then_some(term);
        if next.clients.pending.iter().any(|p| p.node == id) {
            Arc::make_mut(&mut next.clients).drop_stale_reads(id, leader_of);
        }
        let min_term = next.min_term();
        let ghost = &next.ghost;
        let stale = ghost.leaders.oldest_term().is_some_and(|t| t < min_term)
            || ghost
                .committed
                .iter()
                .any(|c| c.commit_term != 0 && c.commit_term <= min_term);
        if stale {
            Arc::make_mut(&mut next.ghost).normalize(min_term);
        }
    }
}

fn always<const I: usize>(_: &RaftModel, s: &ModelState) -> bool {
    Invariant::ALL[I].violation(s).is_none()
}

fn sometimes<const G: usize>(_: &RaftModel, s: &ModelState) -> bool {
    Goal::ALL[G].reached(s)
}

type Condition = fn(&RaftModel, &ModelState) -> bool;

const ALWAYS: [Condition; Invariant::ALL.len()] = [
    always::<0>,
    always::<1>,
    always::<2>,
    always::<3>,
    always::<4>,
    always::<5>,
    always::<6>,
    always::<7>,
];

const SOMETIMES: [Condition; Goal::ALL.len()] = [
    sometimes::<0>,
    sometimes::<1>,
    sometimes::<2>,
    sometimes::<3>,
    sometimes::<4>,
];

impl Model for RaftModel {
    type State = ModelState;
    type Action = Action;

    fn init_states(&self) -> Vec<ModelState> {
        vec![self.init_state()]
    }

    fn actions(&self, state: &ModelState, actions: &mut Vec<Action>) {
        for m in state.network.iter() {
            actions.push(Action::Deliver(m.clone()));
            if self.opts.duplicating {
                actions.push(Action::Duplicate(m.clone()));
            }
            if self.opts.lossy {
                actions.push(Action::Drop(m.clone()));
            }
        }
        // In a fully symmetric state, only the first voter (and the first
        // spare) moves: the others' moves lead to renamings of its moves.
        let first_only = self.opts.symmetry && all_servers_interchangeable(state);
        for (k, s) in state.servers.iter().enumerate() {
            if first_only && k != 0 && k != state.initial_voters {
                continue;
            }
            let (id, core) = (s.core.id(), &s.core);
            let leader = core.role() == Role::Leader;
            // A server outside its own configuration's voters never
            // campaigns (a spare, or a removed server that knows it).
            let voter = core.peers().binary_search(&id).is_ok();
            if leader {
                if state.heartbeats < self.opts.heartbeats {
                    actions.push(Action::Heartbeat(id));
                }
                if state.proposals < self.opts.proposals
                    && core.last_index() < self.opts.max_log as u64
                {
                    actions.push(Action::Propose(id, state.proposals + 1));
                }
                if state.reads < self.opts.reads {
                    actions.push(Action::Read(id));
                }
                if state.conf_changes < self.opts.conf_changes
                    && core.last_index() < self.opts.max_log as u64
                {
                    // Add any server outside the voters, remove any voter
                    // (itself too); the core refuses what its rules forbid.
                    for other in state.servers.iter().map(|o| o.core.id()) {
                        let change = if core.peers().binary_search(&other).is_ok() {
                            ConfChange::Remove(other)
                        } else {
                            ConfChange::AddVoter(other)
                        };
                        actions.push(Action::ChangeConf(id, change));
                    }
                }
            } else if voter
                && core.term() < self.opts.max_term
                && self.opts.elections.is_none_or(|n| state.elections < n)
            {
                actions.push(Action::Timeout(id));
            }
            if state.crashes < self.opts.crashes {
                actions.push(Action::Crash(id));
            }
        }
    }

    fn next_state(&self, state: &ModelState, action: Action) -> Option<ModelState> {
        self.step(state, &action)
    }

    fn within_boundary(&self, state: &ModelState) -> bool {
        let max = self.opts.max_log as u64;
        state.servers.iter().all(|s| s.core.last_index() <= max)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let always = Invariant::ALL
            .iter()
            .zip(ALWAYS)
            .map(|(i, c)| Property::always(i.name(), c));
        let sometimes = Goal::ALL
            .iter()
            .zip(SOMETIMES)
            .filter(|(g, _)| g.applies(&self.opts))
            .map(|(g, c)| Property::sometimes(g.name(), c));
        always.chain(sometimes).collect()
    }

    fn format_action(&self, action: &Action) -> String {
        render::action(action)
    }

    fn format_step(&self, last: &ModelState, action: Action) -> Option<String> {
        self.next_state(last, action).map(|s| render::state(&s))
    }
}
