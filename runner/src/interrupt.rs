//! How a signal reaches a running test. The runner hands its stop switches
//! to an [`Interruption`] (the binary's Ctrl-C handler implements it) at
//! each phase: while waiting for the system, while the workload runs, while
//! recovering. A [`Switch`] stops both the threads that sleep on a
//! `StopFlag` (nemesis, waits) and the async client workers.

use faultline_workloads::StopFlag;
use tokio::sync::watch;

/// The stop switches of one phase of a test.
#[derive(Debug, Clone)]
pub struct Switch {
    pub flag: StopFlag,
    pub clients: watch::Sender<bool>,
}

impl Switch {
    /// Stop everything this switch controls.
    pub fn trip(&self) {
        self.flag.stop();
        let _ = self.clients.send(true);
    }
}

/// Where signals come from.
pub trait Interruption: Sync {
    /// Whether a signal came.
    fn interrupted(&self) -> bool;
    /// Make a signal trip `switch`; trip it at once if one already came.
    fn arm(&self, switch: Switch);
    /// The test is over: signals no longer trip anything of it.
    fn disarm(&self);
}

/// No signals: for library users and tests that stop nothing early.
#[derive(Debug, Default)]
pub struct Uninterrupted;

impl Interruption for Uninterrupted {
    fn interrupted(&self) -> bool {
        false
    }
    fn arm(&self, _switch: Switch) {}
    fn disarm(&self) {}
}
