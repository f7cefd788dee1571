//! The process-wide Ctrl-C (SIGINT), SIGTERM and SIGHUP handler shared by
//! `faultline run` and `faultline nightly`: [`Interrupt`] installs it once,
//! remembers that a signal came (printing a message the first time) and
//! hands every signal to what the command stops ([`OnSignal`]: the current
//! test of a run, the child run of a nightly).

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, anyhow};

/// What a command stops on a signal.
pub trait OnSignal: Default + Send + Sync + 'static {
    /// Printed (on a line of its own) when the first signal comes.
    const MESSAGE: &'static str;
    /// Called on every signal, the first and any further.
    fn stop(&self);
}

/// Whether a signal came, and what it stops.
#[derive(Default)]
pub struct Interrupt<S> {
    interrupted: AtomicBool,
    stops: S,
}

/// The installed handler's state (an `Interrupt<S>` of the command that
/// installed it).
static INSTALLED: OnceLock<Arc<dyn Any + Send + Sync>> = OnceLock::new();

impl<S: OnSignal> Interrupt<S> {
    /// The process-wide handler (installed on first use).
    pub fn install() -> Result<Arc<Interrupt<S>>> {
        let installed = match INSTALLED.get() {
            Some(i) => i.clone(),
            None => {
                let i = Arc::new(Interrupt::<S>::default());
                let handler = i.clone();
                ctrlc::set_handler(move || handler.fire())
                    .context("installing the Ctrl-C / SIGTERM handler")?;
                INSTALLED.get_or_init(|| i).clone()
            }
        };
        installed
            .downcast()
            .map_err(|_| anyhow!("another command's signal handler is installed"))
    }

    /// What a signal does: remember it (saying so the first time) and stop.
    pub fn fire(&self) {
        if !self.interrupted.swap(true, Ordering::SeqCst) {
            eprintln!("\n{}", S::MESSAGE);
        }
        self.stops.stop();
    }

    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// What a signal stops.
    pub fn stops(&self) -> &S {
        &self.stops
    }
}
