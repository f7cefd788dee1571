//! The random runner: one seed is one simulated run of `steps` steps. The
//! first two thirds run clients under the seed's fault schedule; then every
//! fault heals, every node restarts, and a command proposed after the heal
//! must be applied by a majority within `LIVENESS_TICKS` ticks. With
//! membership changes on, an operator (`membership`) also asks leaders to
//! add and remove servers until the heal. Many seeds
//! run on all cores; results are gathered by seed, so they do not depend on
//! the number of threads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use faultline_raft::{BugSet, ReadMode};

use super::error::SimError;
use super::invariants::Property;
use super::membership::Operator;
use super::rng::Rng;
use super::schedule::{Profile, Schedule};
use super::trace::{TRACE_TAIL, Trace};
use super::world::{TICK, Violation, World, WorldConfig};

/// Ticks allowed, after the heal, for a command to be applied by a majority.
pub const LIVENESS_TICKS: u64 = 100;
/// The largest cluster the simulator accepts.
pub const MAX_SERVERS: usize = 15;

/// Clients hold back while the target has this many uncommitted entries
/// (bounded client concurrency, as real clients have).
pub const MAX_BACKLOG: u64 = 32;

const CLIENT_TIMER: u32 = 0;
const FAULT_TIMER: u32 = 1;
const MEMBERSHIP_TIMER: u32 = 2;

/// What every seed of a batch shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOptions {
    pub servers: usize,
    /// Steps per seed (see `world` for what a step is).
    pub steps: u64,
    pub bugs: BugSet,
    /// How leaders serve reads (lease: leader leases in every core).
    pub read_mode: ReadMode,
    /// Clock drift bound in percent: each seed draws every node's clock
    /// rate within `100 ± clock_drift_pct` %, and lease cores allow for it.
    /// 0: exact clocks (seeds then replay as they did before rates existed).
    pub clock_drift_pct: u32,
    /// Membership changes: an operator asks leaders to add and remove
    /// servers (`membership`). Off: seeds replay exactly as before.
    pub conf_changes: bool,
    /// Nodes beyond `servers` that start outside the group (ids after the
    /// voters); with `conf_changes`, the operator may add them.
    pub spares: usize,
}

impl SimOptions {
    /// Correct-core options: ReadIndex, exact clocks.
    pub fn new(servers: usize, steps: u64, bugs: BugSet) -> SimOptions {
        SimOptions {
            servers,
            steps,
            bugs,
            read_mode: ReadMode::ReadIndex,
            clock_drift_pct: 0,
            conf_changes: false,
            spares: 0,
        }
    }
}

impl SimOptions {
    pub fn validate(&self) -> Result<(), SimError> {
        if self.servers == 0 || self.servers > MAX_SERVERS {
            return Err(SimError::InvalidOptions(format!(
                "--servers must be between 1 and {MAX_SERVERS}, got {}",
                self.servers
            )));
        }
        if self.servers + self.spares > MAX_SERVERS {
            return Err(SimError::InvalidOptions(format!(
                "--servers plus --spares must be at most {MAX_SERVERS}, got {}",
                self.servers + self.spares
            )));
        }
        if self.spares > 0 && !self.conf_changes {
            return Err(SimError::InvalidOptions(format!(
                "--spares {} needs --conf-changes (a spare joins only through a membership change)",
                self.spares
            )));
        }
        if self.steps == 0 {
            return Err(SimError::InvalidOptions("--steps must be positive".into()));
        }
        if self.clock_drift_pct >= 50 {
            return Err(SimError::InvalidOptions(format!(
                "--clock-drift must be below 50 (percent), got {}",
                self.clock_drift_pct
            )));
        }
        if let Some(bug) = self.bugs.iter().find(|b| b.needs_lease())
            && self.read_mode != ReadMode::Lease
        {
            return Err(SimError::InvalidOptions(format!(
                "bug {bug} needs --read-mode lease"
            )));
        }
        Ok(())
    }
}

/// The result of one seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOutcome {
    pub seed: u64,
    pub profile: Profile,
    pub steps: u64,
    /// Client commands applied (by at least one node).
    pub commits: u64,
    pub violation: Option<Violation>,
    /// The last trace lines (empty unless traced).
    pub trace: Vec<String>,
    /// Hash and count of every trace line (0 unless traced).
    pub trace_hash: u64,
    pub trace_lines: u64,
}

/// The world configuration a seed draws: the core's timing and batching, and
/// how often nodes snapshot.
pub fn world_config(opts: &SimOptions, seed: u64) -> WorldConfig {
    let mut rng = Rng::new(seed, 4);
    let mut cfg = WorldConfig::new(opts.servers + opts.spares, seed);
    cfg.voters = opts.servers;
    cfg.bugs = opts.bugs.clone();
    cfg.heartbeat_tick = rng.range(1, 3) as u32;
    cfg.max_entries_per_msg = [1, 4, 64][rng.index(3)];
    cfg.max_inflight = [1, 4, 8][rng.index(3)];
    cfg.snapshot_every = [0, 5, 20, 50][rng.index(4)];
    cfg.read_mode = opts.read_mode;
    cfg.max_clock_drift_pct = opts.clock_drift_pct;
    if opts.clock_drift_pct > 0 {
        // Its own stream, so the draws above stay as they were.
        let mut clocks = Rng::new(seed, 6);
        let d = u64::from(opts.clock_drift_pct);
        // Mostly at the bound, where drift hurts most: slow or fast.
        cfg.clock_rates_pct = (0..opts.servers + opts.spares)
            .map(|_| {
                let rate = if clocks.chance(0.75) {
                    if clocks.chance(0.5) { 100 - d } else { 100 + d }
                } else {
                    100 - d + clocks.range(0, 2 * d + 1)
                };
                rate as u32
            })
            .collect();
    }
    cfg
}

/// Runs one seed; `trace` decides what is recorded.
pub fn run_seed(opts: &SimOptions, seed: u64, trace: Trace) -> Result<SeedOutcome, SimError> {
    opts.validate()?;
    let mut world = World::new(world_config(opts, seed), trace)?;
    let mut schedule = Schedule::new(seed);
    let mut clients = Rng::new(seed, 5);
    let read_ratio = [0.2, 0.4, 0.6][clients.index(3)];
    // Under Figure 8 churn the schedule itself hands commands to leaders.
    let op_gap = if schedule.profile == Profile::Figure8 {
        clients.range(3 * TICK, 8 * TICK)
    } else {
        clients.range(TICK / 2, 2 * TICK)
    };
    if clients.chance(0.4) {
        world.bounce_voters = 0.5;
    }

    let heal_step = opts.steps * 2 / 3;
    let mut healed_at: Option<u64> = None;
    world.set_timer(clients.range(1, op_gap), CLIENT_TIMER);
    let first_fault = schedule.next_gap();
    world.set_timer(first_fault, FAULT_TIMER);
    // Created only when on: without it a seed draws what it always drew.
    let mut operator = opts
        .conf_changes
        .then(|| Operator::new(seed, opts.servers, opts.servers + opts.spares));
    if let Some(op) = operator.as_mut() {
        world.set_timer(op.next_gap(), MEMBERSHIP_TIMER);
    }

    while world.steps() < opts.steps && world.violation().is_none() && !world.is_idle() {
        if healed_at.is_none() && world.steps() >= heal_step {
            Schedule::heal_all(&mut world);
            world.watch_progress();
            healed_at = Some(world.now());
        }
        match world.step() {
            Some(CLIENT_TIMER) => {
                client_op(&mut world, &mut clients, read_ratio);
                let gap = clients.range(1, 2 * op_gap);
                world.set_timer(world.now() + gap, CLIENT_TIMER);
            }
            Some(FAULT_TIMER) if healed_at.is_none() => {
                // The operator's targeted pattern holds the network meanwhile.
                if !operator.as_ref().is_some_and(Operator::busy) {
                    schedule.act(&mut world);
                }
                let gap = schedule.next_gap();
                world.set_timer(world.now() + gap, FAULT_TIMER);
            }
            Some(MEMBERSHIP_TIMER) if healed_at.is_none() => {
                if let Some(op) = operator.as_mut() {
                    op.act(&mut world);
                    let gap = op.next_gap();
                    world.set_timer(world.now() + gap, MEMBERSHIP_TIMER);
                }
            }
            _ => {}
        }
        if healed_at.is_none()
            && let Some(op) = operator.as_mut()
        {
            op.after_step(&mut world);
        }
        if let Some(h) = healed_at
            && world.progress_at().is_none()
            && world.now() > h + LIVENESS_TICKS * TICK
        {
            world.report(
                Property::Liveness,
                format!(
                    "all faults healed at t={h}, but no command proposed since was applied by a majority within {LIVENESS_TICKS} ticks"
                ),
            );
        }
    }

    Ok(SeedOutcome {
        seed,
        profile: schedule.profile,
        steps: world.steps(),
        commits: world.inv.applied_commands(),
        violation: world.violation().cloned(),
        trace: world.trace.tail(),
        trace_hash: world.trace.hash(),
        trace_lines: world.trace.count(),
    })
}

/// One client operation: a proposal or a ReadIndex read, sent to a node that
/// believes it leads (a deposed minority leader too), or to anyone when none does.
fn client_op(world: &mut World, rng: &mut Rng, read_ratio: f64) {
    let leaders = world.leaders();
    let target = if leaders.is_empty() {
        rng.index(world.size())
    } else {
        leaders[rng.index(leaders.len())]
    };
    if rng.chance(read_ratio) {
        let _ = world.read(target);
    } else if world.backlog(target) < MAX_BACKLOG {
        let _ = world.propose(target);
    }
}

/// Replays a seed with tracing on, to explain its violation.
pub fn replay(opts: &SimOptions, seed: u64) -> Result<SeedOutcome, SimError> {
    run_seed(opts, seed, Trace::keeping(TRACE_TAIL))
}

/// The first violation of a batch, explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundViolation {
    pub seed: u64,
    pub violation: Violation,
    pub trace: Vec<String>,
}

/// The result of many seeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub seeds: u64,
    pub violations: u64,
    pub steps: u64,
    pub commits: u64,
    pub first_violation: Option<FoundViolation>,
}

/// Runs seeds `first..first + count` on `threads` threads. With
/// `stop_at_first`, seeds after the lowest violating seed are skipped and not
/// counted. The summary does not depend on `threads`.
pub fn run_seeds(
    opts: &SimOptions,
    first: u64,
    count: u64,
    threads: usize,
    stop_at_first: bool,
) -> Result<Summary, SimError> {
    opts.validate()?;
    let next = AtomicU64::new(0);
    let stop = AtomicU64::new(u64::MAX);
    let outcomes: Mutex<Vec<SeedOutcome>> = Mutex::new(Vec::new());
    let error: Mutex<Option<SimError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    if k >= count || k > stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let seed = first.wrapping_add(k);
                    match run_seed(opts, seed, Trace::off()) {
                        Ok(out) => {
                            if stop_at_first && out.violation.is_some() {
                                stop.fetch_min(k, Ordering::SeqCst);
                            }
                            outcomes.lock().unwrap_or_else(|e| e.into_inner()).push(out);
                        }
                        Err(e) => {
                            *error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                            stop.store(0, Ordering::SeqCst);
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut outcomes = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    let limit = stop.load(Ordering::SeqCst);
    outcomes.retain(|o| o.seed.wrapping_sub(first) <= limit);
    outcomes.sort_by_key(|o| o.seed.wrapping_sub(first));

    let mut summary = Summary {
        seeds: 0,
        violations: 0,
        steps: 0,
        commits: 0,
        first_violation: None,
    };
    for o in &outcomes {
        summary.seeds += 1;
        summary.steps += o.steps;
        summary.commits += o.commits;
        if let Some(v) = &o.violation {
            summary.violations += 1;
            if summary.first_violation.is_none() {
                let explained = replay(opts, o.seed)?;
                let trace = explained.trace;
                let violation = explained.violation.unwrap_or_else(|| v.clone());
                summary.first_violation = Some(FoundViolation {
                    seed: o.seed,
                    violation,
                    trace,
                });
            }
        }
    }
    Ok(summary)
}
