//! Ctrl-C (SIGINT), SIGTERM and SIGHUP: the first one stops the test in
//! progress (clients stop, faults are healed, nodes are stopped, the partial
//! run folder is written) and any further tests of `--test-count`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use faultline_nemesis::StopFlag;
use tokio::sync::watch;

/// What a signal stops: the current test's stop flag and client stop channel.
#[derive(Default)]
pub struct Interrupt {
    interrupted: AtomicBool,
    current: Mutex<Option<(StopFlag, watch::Sender<bool>)>>,
}

static INTERRUPT: OnceLock<Arc<Interrupt>> = OnceLock::new();

impl Interrupt {
    /// The process-wide handler (installed on first use).
    pub fn install() -> Result<Arc<Interrupt>> {
        if let Some(i) = INTERRUPT.get() {
            return Ok(i.clone());
        }
        let i = Arc::new(Interrupt::default());
        let handler = i.clone();
        ctrlc::set_handler(move || handler.fire())
            .context("installing the Ctrl-C / SIGTERM handler")?;
        let _ = INTERRUPT.set(i.clone());
        Ok(i)
    }

    fn fire(&self) {
        if !self.interrupted.swap(true, Ordering::SeqCst) {
            eprintln!(
                "\nfaultline: interrupted: stopping clients, healing faults, stopping nodes..."
            );
        }
        if let Some((flag, tx)) = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            flag.stop();
            let _ = tx.send(true);
        }
    }

    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Make a signal stop this test; fires at once if one already came.
    pub fn arm(&self, flag: StopFlag, tx: watch::Sender<bool>) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some((flag, tx));
        if self.interrupted() {
            self.fire();
        }
    }

    pub fn disarm(&self) {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }
}
