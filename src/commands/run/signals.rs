//! Ctrl-C (SIGINT), SIGTERM and SIGHUP: the first one stops the test in
//! progress (clients stop, faults are healed, nodes are stopped, the partial
//! run folder is written) and any further tests of `--test-count`. The
//! handler is the shared [`crate::commands::interrupt`]; this module says
//! what it stops.

use std::sync::Mutex;

use faultline_nemesis::StopFlag;
use tokio::sync::watch;

use crate::commands::interrupt::{self, OnSignal};

/// The run's signal state: whether a signal came, and the test it stops.
pub type Interrupt = interrupt::Interrupt<CurrentTest>;

/// What a signal stops: the current test's stop flag and client stop channel.
#[derive(Default)]
pub struct CurrentTest(Mutex<Option<(StopFlag, watch::Sender<bool>)>>);

impl OnSignal for CurrentTest {
    const MESSAGE: &'static str =
        "faultline: interrupted: stopping clients, healing faults, stopping nodes...";

    fn stop(&self) {
        if let Some((flag, tx)) = self.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            flag.stop();
            let _ = tx.send(true);
        }
    }
}

impl Interrupt {
    /// Make a signal stop this test; fires at once if one already came.
    pub fn arm(&self, flag: StopFlag, tx: watch::Sender<bool>) {
        *self.stops().0.lock().unwrap_or_else(|p| p.into_inner()) = Some((flag, tx));
        if self.interrupted() {
            self.fire();
        }
    }

    pub fn disarm(&self) {
        self.stops()
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }
}
