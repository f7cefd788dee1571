//! Which operations the page's timeline embeds when a run has more than
//! the bound ([`crate::limits::TIMELINE_OPS`]): first those of the
//! counterexample and those overlapping its failing and concurrent
//! operations (at most half the bound), then the failed and indeterminate
//! ones (at most half of the rest while ok ones need it), then the ok
//! ones, each group evenly spread over the run when it does not fit whole. Deterministic; history.jsonl keeps every operation.

use std::collections::HashSet;

use serde::Serialize;

use crate::counterexample::CounterexampleView;
use crate::ops::{OpView, Outcome};

/// What the counterexamples point at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Focus {
    /// History indexes of the counterexamples' operations.
    pub indexes: HashSet<u64>,
    /// Time spans (ns) of their failing and concurrent operations.
    pub spans: Vec<(u64, u64)>,
}

impl Focus {
    /// What `views` point at: every operation's history index; the spans
    /// of the failing and concurrent operations that have times.
    pub fn of<'a>(views: impl IntoIterator<Item = &'a CounterexampleView>) -> Focus {
        let mut focus = Focus::default();
        for view in views {
            let steps = view.steps.iter().map(|s| &s.op);
            let near = view.failing.iter().chain(&view.concurrent);
            focus
                .indexes
                .extend(steps.chain(near.clone()).filter_map(|o| o.index));
            focus
                .spans
                .extend(near.filter_map(|o| o.start_ns.map(|s| (s, o.end_ns.unwrap_or(s).max(s)))));
        }
        focus
    }

    /// The times (ms) the counterexamples' spans start and end.
    pub fn moments_ms(&self) -> impl Iterator<Item = f64> + '_ {
        self.spans
            .iter()
            .flat_map(|&(s, e)| [s as f64 / 1e6, e as f64 / 1e6])
    }
}

/// How many of a group were kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub kept: usize,
    pub of: usize,
}

/// The operations kept for the timeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpSelection {
    /// Positions in the run's operations, ascending (invocation order).
    pub kept: Vec<usize>,
    pub total: usize,
    /// Operations of, or overlapping, a counterexample.
    pub focus: Tally,
    /// `fail` and `info` operations (not already in `focus`).
    pub failed: Tally,
    /// `ok` operations (not already in `focus`).
    pub ok: Tally,
}

impl OpSelection {
    /// True when some operations were left out.
    pub fn thinned(&self) -> bool {
        self.kept.len() < self.total
    }
}

/// Chooses at most `cap` of `ops` (see the module doc).
pub fn select_ops(ops: &[OpView], focus: &Focus, cap: usize) -> OpSelection {
    let total = ops.len();
    if total <= cap {
        let failed = ops.iter().filter(|o| o.outcome != Outcome::Ok).count();
        return OpSelection {
            kept: (0..total).collect(),
            total,
            focus: Tally::default(),
            failed: Tally {
                kept: failed,
                of: failed,
            },
            ok: Tally {
                kept: total - failed,
                of: total - failed,
            },
        };
    }
    // Each operation in the first group it belongs to.
    let overlaps = |o: &OpView| {
        let end = o.end_ns.unwrap_or(u64::MAX);
        focus
            .spans
            .iter()
            .any(|&(s, e)| o.start_ns <= e && end >= s)
    };
    let (mut of_ce, mut near_ce, mut failed, mut ok) = (vec![], vec![], vec![], vec![]);
    for (i, o) in ops.iter().enumerate() {
        if focus.indexes.contains(&o.index) {
            of_ce.push(i);
        } else if overlaps(o) {
            near_ce.push(i);
        } else if o.outcome == Outcome::Ok {
            ok.push(i);
        } else {
            failed.push(i);
        }
    }
    let mut kept = Vec::with_capacity(cap);
    let mut remaining = cap;
    let mut take = |group: &[usize], quota: usize, remaining: &mut usize| {
        let quota = quota.min(group.len()).min(*remaining);
        kept.extend(spread(group, quota));
        *remaining -= quota;
        quota
    };
    let focus_cap = cap / 2;
    let a = take(&of_ce, focus_cap, &mut remaining);
    let b = take(&near_ce, focus_cap - a, &mut remaining);
    // Leave the ok operations half of what is left, if they need it.
    let for_ok = (remaining / 2).min(ok.len());
    let c = take(&failed, remaining - for_ok, &mut remaining);
    let d = take(&ok, remaining, &mut remaining);
    kept.sort_unstable();
    OpSelection {
        kept,
        total,
        focus: Tally {
            kept: a + b,
            of: of_ce.len() + near_ce.len(),
        },
        failed: Tally {
            kept: c,
            of: failed.len(),
        },
        ok: Tally {
            kept: d,
            of: ok.len(),
        },
    }
}

/// `n` elements of `group` evenly spread over it (all when `n` ≥ its length).
fn spread(group: &[usize], n: usize) -> impl Iterator<Item = usize> + '_ {
    let len = group.len();
    (0..n.min(len)).map(move |j| group[j * len / n])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(index: u64, outcome: Outcome, start_ms: u64) -> OpView {
        OpView {
            index,
            process: index % 7,
            f: "get".into(),
            key: None,
            value: String::new(),
            outcome,
            start_ns: start_ms * 1_000_000,
            end_ns: Some(start_ms * 1_000_000 + 500_000),
            node: None,
            error: None,
        }
    }

    /// 1000 ops, one per ms; every tenth fails.
    fn run() -> Vec<OpView> {
        (0..1000)
            .map(|i| {
                let outcome = if i % 10 == 0 {
                    Outcome::Fail
                } else {
                    Outcome::Ok
                };
                op(i, outcome, i)
            })
            .collect()
    }

    #[test]
    fn small_runs_keep_everything() {
        let ops = run();
        let s = select_ops(&ops, &Focus::default(), 1000);
        assert!(!s.thinned());
        assert_eq!(s.kept.len(), 1000);
        assert_eq!((s.failed.of, s.ok.of), (100, 900));
    }

    #[test]
    fn counterexample_then_failures_then_spread_ok() {
        let ops = run();
        let focus = Focus {
            indexes: [5u64, 905].into_iter().collect(),
            // Ops starting 500..=509 ms overlap (ends are 0.5 ms later).
            spans: vec![(500_000_000, 509_000_000)],
        };
        let s = select_ops(&ops, &focus, 200);
        assert!(s.thinned());
        assert_eq!(s.kept.len(), 200);
        assert!(s.kept.windows(2).all(|w| w[0] < w[1]));
        for i in [5, 905, 500, 505, 509] {
            assert!(s.kept.contains(&i), "{i}");
        }
        assert_eq!(s.focus, Tally { kept: 12, of: 12 });
        // Failures take half of the rest (op 500 is in the focus).
        assert_eq!(s.failed, Tally { kept: 94, of: 99 });
        assert_eq!(s.ok.kept, 200 - 12 - 94);
        // The ok ones are spread over the whole run.
        let ok_kept: Vec<u64> = s
            .kept
            .iter()
            .map(|&i| &ops[i])
            .filter(|o| o.outcome == Outcome::Ok)
            .map(|o| o.start_ns / 1_000_000)
            .collect();
        assert!(ok_kept.first().unwrap() < &20 && ok_kept.last().unwrap() > &980);
        assert_eq!(s, select_ops(&ops, &focus, 200), "deterministic");
    }

    #[test]
    fn failures_leave_room_for_ok_and_focus_takes_at_most_half() {
        let ops: Vec<OpView> = (0..1000)
            .map(|i| {
                op(
                    i,
                    if i % 2 == 0 {
                        Outcome::Info
                    } else {
                        Outcome::Ok
                    },
                    i,
                )
            })
            .collect();
        let s = select_ops(&ops, &Focus::default(), 100);
        assert_eq!((s.failed.kept, s.ok.kept), (50, 50));
        let everything = Focus {
            indexes: HashSet::new(),
            spans: vec![(0, u64::MAX)],
        };
        let s = select_ops(&ops, &everything, 100);
        assert_eq!(s.focus, Tally { kept: 50, of: 1000 });
        assert_eq!(s.kept.len(), 50, "nothing else is left to fill the rest");
    }
}
