//! A stop flag threads can sleep on: set at the end of a run's time limit
//! or on Ctrl-C, it wakes every sleeper at once (the nemesis, waits for a
//! leader or a settled configuration, the runner).

use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<(Mutex<bool>, Condvar)>);

impl StopFlag {
    pub fn new() -> StopFlag {
        StopFlag::default()
    }

    pub fn stop(&self) {
        let (lock, cvar) = &*self.0;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cvar.notify_all();
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sleep until `when`; false if the flag was set first.
    pub fn sleep_until(&self, when: Instant) -> bool {
        let (lock, cvar) = &*self.0;
        let mut stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if *stopped {
                return false;
            }
            let now = Instant::now();
            if now >= when {
                return true;
            }
            stopped = cvar
                .wait_timeout(stopped, when - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_stop_wakes_a_sleeper() {
        let flag = StopFlag::new();
        assert!(flag.sleep_until(Instant::now() + Duration::from_millis(1)));
        let f2 = flag.clone();
        let t =
            std::thread::spawn(move || f2.sleep_until(Instant::now() + Duration::from_secs(3600)));
        std::thread::sleep(Duration::from_millis(20));
        flag.stop();
        assert!(!t.join().unwrap());
        assert!(flag.is_stopped());
    }
}
