//! Ctrl-C (SIGINT), SIGTERM and SIGHUP during `faultline run`: the first one
//! stops the test in progress (clients stop, faults are healed, nodes are
//! stopped, the partial run folder is written) and any further tests of
//! `--test-count`. The handler is the shared [`crate::commands::interrupt`];
//! this module says what it stops: the runner's current [`Switch`].

use std::sync::Mutex;

use faultline_runner::{Interruption, Switch};

use crate::commands::interrupt::{self, OnSignal};

/// The run's signal state: whether a signal came, and the test it stops.
pub type Interrupt = interrupt::Interrupt<CurrentTest>;

/// What a signal stops: the switch the runner armed last.
#[derive(Default)]
pub struct CurrentTest(Mutex<Option<Switch>>);

impl OnSignal for CurrentTest {
    const MESSAGE: &'static str =
        "faultline: interrupted: stopping clients, healing faults, stopping nodes...";

    fn stop(&self) {
        if let Some(switch) = self.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            switch.trip();
        }
    }
}

impl Interruption for Interrupt {
    fn interrupted(&self) -> bool {
        Interrupt::interrupted(self)
    }

    fn arm(&self, switch: Switch) {
        *self.stops().0.lock().unwrap_or_else(|p| p.into_inner()) = Some(switch);
        if Interrupt::interrupted(self) {
            self.fire();
        }
    }

    fn disarm(&self) {
        self.stops()
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }
}
