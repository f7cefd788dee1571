//! After the final heal: wait until some node reports itself leader.

use std::time::{Duration, Instant};

use faultline_workloads::Db;

use crate::stop::StopFlag;

/// Poll node status until a leader shows up, `timeout` passes or `stop` is
/// set; returns the leader.
pub fn wait_for_leader(db: &dyn Db, timeout: Duration, stop: &StopFlag) -> Option<String> {
    let until = Instant::now() + timeout;
    loop {
        if let Some(l) = db.leader() {
            return Some(l);
        }
        if Instant::now() >= until
            || !stop.sleep_until((Instant::now() + Duration::from_millis(50)).min(until))
        {
            return None;
        }
    }
}
