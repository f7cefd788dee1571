//! Running the checker over a `RaftModel` and summarising the result:
//! counts, rate, and for each named property whether it holds (or was
//! reached), with the shortest trace found.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use serde::Serialize;
use stateright::{Checker, HasDiscoveries, Model};
use tracing::info;

use crate::model::error::ModelError;
use crate::model::options::RaftModelOptions;
use crate::model::properties::{Expectation, NamedProperty};
use crate::model::raft_model::RaftModel;
use crate::model::render::{TraceStep, trace};
use crate::model::shortest::{StatePath, shortest_paths};

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
    /// memory; the trace is then shortened only as far as `shortest` can
    /// afford (see `check`).
    Dfs,
}

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// Checker threads. With one thread the search is strictly breadth
    /// first, so each trace is a shortest one; with more, traces are
    /// breadth-first-ish and may be a little longer.
    pub threads: usize,
    pub stop: StopWhen,
    pub strategy: Strategy,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            threads: 1,
            stop: StopWhen::FirstViolation,
            strategy: Strategy::Bfs,
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
    let model = RaftModel::new(opts)?;
    info!(bounds = %model.options().describe(), threads = search.threads, "model checking raft");
    let all_names: BTreeSet<&'static str> = properties.iter().map(|p| p.name()).collect();
    let finish = match search.stop {
        StopWhen::FirstViolation => HasDiscoveries::AnyFailures,
        StopWhen::Exhausted => HasDiscoveries::AllOf(all_names.clone()),
    };
    let started = Instant::now();
    let builder = model
        .checker()
        .threads(search.threads)
        .finish_when(finish.clone());
    let (model, discoveries, unique_states, states, max_depth) = match search.strategy {
        Strategy::Bfs => summarise(builder.spawn_bfs().join()),
        Strategy::Dfs => summarise(builder.spawn_dfs().join()),
    };
    let elapsed_s = started.elapsed().as_secs_f64();
    let found: BTreeSet<&'static str> = discoveries.keys().copied().collect();
    let stopped_early = finish.matches(&found, &model.properties());
    let complete = !stopped_early;
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
        Strategy::Dfs => Default::default(),
    };
    let results = properties
        .iter()
        .map(|p| {
            let path = shortest
                .get(p.name())
                .or_else(|| discoveries.get(p.name()))
                .cloned();
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
