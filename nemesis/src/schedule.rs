//! The fault timetable of a run, drawn from the seed: each package starts a
//! fault about every `interval` and holds it about half of that (±20 %),
//! with ±10 % jitter on the start. Packages are staggered: package `i` of `n`
//! begins at `interval / 4 + i * interval / n`, so with `kill,pause` and the
//! default 10 s the faults alternate rather than pile up. A stop that would
//! fall after the time limit is left to the final heal.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::NemesisError;

/// Default time between two faults of one package.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Start,
    Stop,
}

/// One step: at `at` (since the run began), start or stop package `package`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    pub at: Duration,
    pub package: usize,
    pub kind: ActionKind,
}

#[derive(Debug, Clone)]
pub struct ScheduleOptions {
    pub seed: u64,
    /// Number of packages.
    pub packages: usize,
    pub interval: Duration,
    pub time_limit: Duration,
}

/// A timetable, sorted by time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub actions: Vec<Action>,
}

impl Schedule {
    pub fn new(opts: &ScheduleOptions) -> Result<Schedule, NemesisError> {
        if opts.interval < Duration::from_millis(100) {
            return Err(NemesisError::Option(format!(
                "--nemesis-interval must be at least 0.1 s, not {:?}",
                opts.interval
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x006e_656d_6573_6973);
        let n = opts.packages.max(1) as f64;
        let iv = opts.interval.as_secs_f64();
        let limit = opts.time_limit.as_secs_f64();
        let mut actions = Vec::new();
        for package in 0..opts.packages {
            let offset = iv / 4.0 + package as f64 * iv / n;
            for k in 0.. {
                let start = offset + k as f64 * iv + rng.random_range(-0.1..=0.1) * iv;
                if start >= limit {
                    break;
                }
                let stop = start + iv / 2.0 * rng.random_range(0.8..=1.2);
                let start = start.max(0.0);
                actions.push(Action {
                    at: Duration::from_secs_f64(start),
                    package,
                    kind: ActionKind::Start,
                });
                if stop < limit {
                    actions.push(Action {
                        at: Duration::from_secs_f64(stop),
                        package,
                        kind: ActionKind::Stop,
                    });
                }
            }
        }
        actions.sort_by_key(|a| (a.at, a.package));
        Ok(Schedule { actions })
    }

    /// Number of fault starts for package `package`.
    pub fn starts(&self, package: usize) -> usize {
        self.actions
            .iter()
            .filter(|a| a.package == package && a.kind == ActionKind::Start)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(seed: u64, packages: usize, interval_s: f64, limit_s: u64) -> ScheduleOptions {
        ScheduleOptions {
            seed,
            packages,
            interval: Duration::from_secs_f64(interval_s),
            time_limit: Duration::from_secs(limit_s),
        }
    }

    #[test]
    fn seeded_and_repeatable() {
        let a = Schedule::new(&opts(1, 2, 10.0, 60)).unwrap();
        assert_eq!(a, Schedule::new(&opts(1, 2, 10.0, 60)).unwrap());
        assert_ne!(a, Schedule::new(&opts(2, 2, 10.0, 60)).unwrap());
    }

    #[test]
    fn each_package_alternates_start_and_stop_within_the_limit() {
        let s = Schedule::new(&opts(3, 2, 10.0, 60)).unwrap();
        assert!(s.actions.windows(2).all(|w| w[0].at <= w[1].at));
        for p in 0..2 {
            let mine: Vec<&Action> = s.actions.iter().filter(|a| a.package == p).collect();
            assert!((5..=7).contains(&s.starts(p)), "{} starts", s.starts(p));
            for (i, a) in mine.iter().enumerate() {
                let expect = if i % 2 == 0 {
                    ActionKind::Start
                } else {
                    ActionKind::Stop
                };
                assert_eq!(a.kind, expect);
                assert!(a.at < Duration::from_secs(60));
            }
            // Holds are about half the interval.
            for pair in mine.chunks(2).filter(|c| c.len() == 2) {
                let hold = (pair[1].at - pair[0].at).as_secs_f64();
                assert!((4.0..=6.0).contains(&hold), "hold {hold}");
            }
        }
    }

    #[test]
    fn packages_are_staggered() {
        let s = Schedule::new(&opts(5, 2, 10.0, 30)).unwrap();
        let first = |p| {
            s.actions
                .iter()
                .find(|a| a.package == p)
                .unwrap()
                .at
                .as_secs_f64()
        };
        assert!(first(1) - first(0) > 3.0);
    }

    #[test]
    fn a_tiny_interval_is_refused_and_no_packages_means_no_actions() {
        assert!(Schedule::new(&opts(1, 1, 0.01, 10)).is_err());
        assert!(
            Schedule::new(&opts(1, 0, 1.0, 10))
                .unwrap()
                .actions
                .is_empty()
        );
    }
}
