//! An optional global rate limit (`--rate` ops/s) shared by all workers:
//! operation slots are handed out `1/rate` apart, whoever asks.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::WorkloadError;

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter for `rate` operations per second (finite and positive).
    pub fn new(rate: f64) -> Result<RateLimiter, WorkloadError> {
        if !rate.is_finite() || rate <= 0.0 {
            return Err(WorkloadError::Option(format!(
                "--rate must be a positive number of operations per second, not {rate}"
            )));
        }
        Ok(RateLimiter {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(None),
        })
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Reserve the next slot and return when it begins.
    pub fn reserve(&self) -> Instant {
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        slot
    }

    /// Wait for the next slot.
    pub async fn acquire(&self) {
        tokio::time::sleep_until(self.reserve()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_rates_are_refused() {
        for r in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(RateLimiter::new(r).is_err());
        }
    }

    #[tokio::test]
    async fn slots_are_spaced_by_the_interval() {
        let r = RateLimiter::new(100.0).unwrap();
        let a = r.reserve();
        let b = r.reserve();
        let c = r.reserve();
        assert_eq!(b - a, Duration::from_millis(10));
        assert_eq!(c - b, Duration::from_millis(10));
    }
}
