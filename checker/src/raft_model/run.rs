//! Running the checker over a `RaftModel` and summarising the result:
//! counts, rate, and for each named property whether it holds (or was
//! reached), with the shortest trace found.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use faultline_raft::SplitMix64;
use serde::Serialize;
use stateright::{Checker, Chooser, HasDiscoveries, Model};
use tracing::info;

use crate::raft_model::action::Action;
use crate::raft_model::error::ModelError;
use crate::raft_model::model::RaftModel;
use crate::raft_model::options::RaftModelOptions;
use crate::raft_model::properties::{Expectation, NamedProperty};
use crate::raft_model::render::{TraceStep, trace};
use crate::raft_model::shortest::{StatePath, shortest_paths, shrink};
use crate::raft_model::state::ModelState;

/// When the search may stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StopWhen {
    /// At the first counterexample to any always-property (the default:
    /// a bug is reported as soon as it is found).
    #[default]
    FirstViolation,
    /// Only when the state space is exhausted (or every property has a
    /// discovery), so every violated property gets its own trace.
    Exhausted,
}

/// The order states are explored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Breadth first: exhaustive runs, and shortest counterexamples.
    #[default]
    Bfs,
    /// Depth first: reaches deep counterexamples (many terms) with far less
    /// memory; the trace is kept as found (see `check`).
    Dfs,
    /// Not exhaustive: random walks from the initial state through the
    /// same model and properties (stateright's simulation checker), each
    /// choice drawn from a splitmix64 stream seeded with `seed`, until a
    /// counterexample or `SearchOptions::max_states`. For counterexamples
    /// deeper than exhaustive search can reach (figure8: 20 steps, see
    /// the README). With one thread the same seed gives the same run.
    Simulate { seed: u64 },
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Bfs => "bfs",
            Strategy::Dfs => "dfs",
            Strategy::Simulate { .. } => "simulate",
        }
    }
}

/// The choices of a simulation run: uniform over the enabled actions,
/// from a splitmix64 stream (stable across versions, unlike `StdRng`).
#[derive(Debug, Clone, Copy)]
pub struct SeededChooser;

impl Chooser<RaftModel> for SeededChooser {
    type State = SplitMix64;

    fn new_state(&self, seed: u64) -> SplitMix64 {
        SplitMix64::new(seed)
    }

    fn choose_initial_state(&self, _: &mut SplitMix64, _: &[ModelState]) -> usize {
        0
    }

    fn choose_action(&self, rng: &mut SplitMix64, _: &ModelState, actions: &[Action]) -> usize {
        rng.below(actions.len() as u64) as usize
    }
}

/// The state budget of a simulation run when none is given.
pub const DEFAULT_SIMULATION_STATES: usize = 20_000_000;

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// Checker threads. With one thread the search is strictly breadth
    /// first, so each trace is a shortest one; with more, traces are
    /// breadth-first-ish and may be a little longer.
    pub threads: usize,
    pub stop: StopWhen,
    pub strategy: Strategy,
    /// Explore no state deeper than this many steps (stateright's
    /// `target_max_depth`); a run that cut anything off is not complete.
    pub max_depth: Option<usize>,
    /// Stop after generating this many states (stateright's
    /// `target_state_count`); a run that stops so is not complete.
    /// Simulation runs default to `DEFAULT_SIMULATION_STATES`.
    pub max_states: Option<usize>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            threads: 1,
            stop: StopWhen::FirstViolation,
            strategy: Strategy::Bfs,
            max_depth: None,
            max_states: None,
        }
    }
}

/// The outcome of one property.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyResult {
    pub name: &'static str,
    pub expectation: Expectation,
    /// Always-properties: false with a counterexample, true when the search
    /// was complete without one, None (unknown) when it stopped early.
    /// Sometimes-properties: true with an example, false when the complete
    /// search found none, None when it stopped early.
    pub holds: Option<bool>,
    /// The counterexample (always) or example (sometimes).
    pub trace: Option<Vec<TraceStep>>,
}

/// The outcome of a model-checking run; serialises to the `--json` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRun {
    /// `bfs`, `dfs` or `simulate`.
    pub strategy: &'static str,
    /// The seed of a simulation run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The whole bounded state space was explored.
    pub complete: bool,
    pub unique_states: usize,
    /// States generated, repeats included.
    pub states: usize,
    pub max_depth: usize,
    pub elapsed_s: f64,
    /// Unique states per second of wall-clock time.
    pub states_per_s: f64,
    pub properties: Vec<PropertyResult>,
}

/// The overall verdict, mapped to exit codes by the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every always-property holds and every sometimes-property was reached.
    Holds,
    /// A counterexample was found, or a sometimes-property is unreachable.
    Violated,
    /// The search stopped before it could tell.
    Unknown,
}

impl ModelRun {
    pub fn verdict(&self) -> Verdict {
        if self.properties.iter().any(|p| p.holds == Some(false)) {
            Verdict::Violated
        } else if self.properties.iter().all(|p| p.holds == Some(true)) {
            Verdict::Holds
        } else {
            Verdict::Unknown
        }
    }

    pub fn property(&self, name: &str) -> Option<&PropertyResult> {
        self.properties.iter().find(|p| p.name == name)
    }
}

/// Check the Raft model with these bounds.
pub fn check(opts: RaftModelOptions, search: SearchOptions) -> Result<ModelRun, ModelError> {
    if search.threads == 0 || search.threads > 256 {
        return Err(ModelError::BadBound(format!(
            "--threads must be between 1 and 256, got {}",
            search.threads
        )));
    }
    let properties = NamedProperty::applicable(&opts);
    let mut opts = opts;
    if matches!(search.strategy, Strategy::Simulate { .. }) {
        // A walk gains nothing from representatives (it stores no states
        // beyond its own), so it takes its steps unrenamed, and faster.
        opts.symmetry = false;
    }
    let model = RaftModel::new(opts)?;
    info!(bounds = %model.options().describe(), threads = search.threads, "model checking raft");
    let all_names: BTreeSet<&'static str> = properties.iter().map(|p| p.name()).collect();
    let finish = match search.stop {
        StopWhen::FirstViolation => HasDiscoveries::AnyFailures,
        StopWhen::Exhausted => HasDiscoveries::AllOf(all_names.clone()),
    };
    let started = Instant::now();
    let mut builder = model
        .checker()
        .threads(search.threads)
        .finish_when(finish.clone());
    let max_states = match search.strategy {
        Strategy::Simulate { .. } => Some(search.max_states.unwrap_or(DEFAULT_SIMULATION_STATES)),
        _ => search.max_states,
    };
    if let Some(n) = max_states {
        builder = builder.target_state_count(n);
    }
    if let Some(depth) = search.max_depth {
        // stateright counts the initial state as depth 1 and skips states
        // at depth >= target: allow `depth` steps.
        builder = builder.target_max_depth(depth + 2);
    }
    let (model, discoveries, unique_states, states, max_depth) = match search.strategy {
        Strategy::Bfs => summarise(builder.spawn_bfs().join()),
        Strategy::Dfs => summarise(builder.spawn_dfs().join()),
        Strategy::Simulate { seed } => {
            summarise(builder.spawn_simulation(seed, SeededChooser).join())
        }
    };
    let elapsed_s = started.elapsed().as_secs_f64();
    let found: BTreeSet<&'static str> = discoveries.keys().copied().collect();
    let stopped_early = finish.matches(&found, &model.properties());
    let cut_off = search.max_depth.is_some_and(|d| max_depth >= d + 2)
        || max_states.is_some_and(|n| states >= n);
    // A simulation samples behaviours: it never shows that one holds.
    let sampled = matches!(search.strategy, Strategy::Simulate { .. });
    let complete = !stopped_early && !cut_off && !sampled;
    // stateright's paths are valid but not shortest: search again for those.
    let discovered: Vec<NamedProperty> = properties
        .iter()
        .copied()
        .filter(|p| discoveries.contains_key(p.name()))
        .collect();
    let depth = discoveries.values().map(|p| p.len()).max().unwrap_or(0);
    // Depth first finds deep traces the breadth-first search for a shorter
    // one could not afford: keep those as found.
    let shortest = match search.strategy {
        Strategy::Bfs => shortest_paths(&model, &discovered, depth),
        Strategy::Dfs | Strategy::Simulate { .. } => Default::default(),
    };
    let results = properties
        .iter()
        .map(|p| {
            let path = match shortest.get(p.name()) {
                Some(found) => Some(model.real_path(found)),
                // Depth first and simulation wander: shorten what they found.
                None => discoveries
                    .get(p.name())
                    .map(|found| shrink(&model, &model.real_path(found), *p)),
            };
            let holds = match (p.expectation(), &path, complete) {
                (Expectation::Always, Some(_), _) => Some(false),
                (Expectation::Sometimes, Some(_), _) => Some(true),
                (Expectation::Always, None, true) => Some(true),
                (Expectation::Sometimes, None, true) => Some(false),
                (_, None, false) => None,
            };
            PropertyResult {
                name: p.name(),
                expectation: p.expectation(),
                holds,
                trace: path.as_deref().map(trace),
            }
        })
        .collect();
    Ok(ModelRun {
        strategy: search.strategy.name(),
        seed: match search.strategy {
            Strategy::Simulate { seed } => Some(seed),
            _ => None,
        },
        complete,
        unique_states,
        states,
        max_depth,
        elapsed_s,
        states_per_s: if elapsed_s > 0.0 {
            unique_states as f64 / elapsed_s
        } else {
            0.0
        },
        properties: results,
    })
}

type Summary = (
    RaftModel,
    HashMap<&'static str, StatePath>,
    usize,
    usize,
    usize,
);

/// What a finished checker found, its paths as plain vectors.
fn summarise(checker: impl Checker<RaftModel>) -> Summary {
    let discoveries = checker
        .discoveries()
        .into_iter()
        .map(|(name, path)| (name, path.into_vec()))
        .collect();
    (
        checker.model().clone(),
        discoveries,
        checker.unique_state_count(),
        checker.state_count(),
        checker.max_depth(),
    )
}

/// Serve stateright's Explorer web UI for the model at `addr` (blocks).
pub fn explore(opts: RaftModelOptions, threads: usize, addr: &str) -> Result<(), ModelError> {
    let model = RaftModel::new(opts)?;
    // tiny_http panics on a bad address: find out first, with a clear error.
    drop(std::net::TcpListener::bind(addr).map_err(|e| {
        ModelError::BadBound(format!("--explore {addr}: cannot listen there: {e}"))
    })?);
    model.checker().threads(threads.max(1)).serve(addr);
    Ok(())
}
