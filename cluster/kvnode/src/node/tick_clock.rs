//! When the Ready loop ticks the core.
//!
//! In ReadIndex mode the loop ticks once per round when a tick is due (the
//! long-standing behaviour). In lease mode the core's lease is measured in
//! ticks, so every tick that is due is delivered before the loop serves
//! reads: after a pause (SIGSTOP, a stall) the missed ticks come at once and
//! an expired lease is seen as expired. The clock is the monotonic one
//! (`Instant`), which libfaketime's rate skew reaches when monotonic faking
//! is on; the planted bug `lease-wall-clock` counts ticks on the wall clock
//! (`SystemTime`) instead, so a wall clock set back freezes the node's
//! ticks, its lease included.
//!
//! A real monotonic clock never goes back, but a faked one can (libfaketime
//! applies a bump to it too when monotonic faking is on). When the
//! monotonic clock is seen going back, the node cannot know how much time
//! passed: it delivers `burn` ticks at once (the election timeout: the
//! lease and the vote guard run out, as if a long pause had passed) and
//! counts on from there.

use std::time::{Duration, Instant, SystemTime};

/// The most ticks delivered in one catch-up (enough to end any lease and
/// run CheckQuorum twice; the rest of a long gap is skipped).
const MAX_CATCH_UP: u64 = 1_000;

/// Which clock ticks are counted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickSource {
    /// One tick per loop round when due (ReadIndex mode).
    Paced,
    /// Every due tick, on the monotonic clock (lease mode).
    Monotonic,
    /// Every due tick, on the wall clock (planted bug `lease-wall-clock`).
    Wall,
}

/// The tick schedule of one node.
#[derive(Debug)]
pub struct TickClock {
    source: TickSource,
    period: Duration,
    start: Instant,
    wall_start: SystemTime,
    /// Ticks delivered since `start` (catch-up sources).
    delivered: u64,
    /// Paced: the next tick.
    next: Instant,
    /// Monotonic: the latest reading, to see the clock going back.
    last: Instant,
    /// Ticks delivered when the monotonic clock goes back.
    burn: u64,
}

impl TickClock {
    pub fn new(source: TickSource, period: Duration, burn: u64) -> TickClock {
        let now = Instant::now();
        TickClock {
            source,
            period,
            start: now,
            wall_start: SystemTime::now(),
            delivered: 0,
            next: now + period,
            last: now,
            burn,
        }
    }

    /// Time elapsed since the start on this source's clock (a wall clock
    /// set back before the start counts as no time).
    fn elapsed(&self) -> Duration {
        match self.source {
            TickSource::Wall => SystemTime::now()
                .duration_since(self.wall_start)
                .unwrap_or(Duration::ZERO),
            _ => self.start.elapsed(),
        }
    }

    /// Whether the loop waits with a timeout (ReadIndex mode) rather than
    /// being woken (lease mode: see `server::spawn_waker`).
    pub fn paced(&self) -> bool {
        self.source == TickSource::Paced
    }

    /// How long the loop may wait for input before the next tick is due.
    pub fn wait(&self) -> Duration {
        match self.source {
            TickSource::Paced => self.next.saturating_duration_since(Instant::now()),
            _ => {
                let next = self.period * (self.delivered + 1) as u32;
                next.saturating_sub(self.elapsed()).min(self.period)
            }
        }
    }

    /// The number of ticks due now; they count as delivered.
    pub fn due(&mut self) -> u64 {
        let source = self.source;
        match source {
            TickSource::Paced => {
                let now = Instant::now();
                if now >= self.next {
                    self.next = now + self.period;
                    1
                } else {
                    0
                }
            }
            TickSource::Monotonic if self.went_back() => {
                tracing::warn!(
                    burn = self.burn,
                    "monotonic clock went back; treating the lease as lost"
                );
                self.start = Instant::now();
                self.last = self.start;
                self.delivered = 0;
                self.burn
            }
            _ => {
                let total = (self.elapsed().as_nanos() / self.period.as_nanos().max(1)) as u64;
                let due = total.saturating_sub(self.delivered);
                if due > MAX_CATCH_UP {
                    self.delivered = total;
                    MAX_CATCH_UP
                } else {
                    self.delivered += due;
                    due
                }
            }
        }
    }
}

impl TickClock {
    /// Whether the monotonic clock reads earlier than it did (by more than
    /// a millisecond); remembers the reading.
    fn went_back(&mut self) -> bool {
        let now = Instant::now();
        let back = now + Duration::from_millis(1) < self.last;
        if back || now > self.last {
            self.last = now;
        }
        back
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_up_delivers_every_missed_tick() {
        let mut c = TickClock::new(TickSource::Monotonic, Duration::from_millis(2), 20);
        std::thread::sleep(Duration::from_millis(21));
        let due = c.due();
        assert!(due >= 10, "{due}");
        assert_eq!(c.due(), 0);
        assert!(c.wait() <= Duration::from_millis(2));
    }

    #[test]
    fn paced_delivers_one_tick_per_round() {
        let mut c = TickClock::new(TickSource::Paced, Duration::from_millis(1), 20);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.due(), 1);
        assert_eq!(c.due(), 0);
    }
}
