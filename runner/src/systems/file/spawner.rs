//! Adapter processes die with the runner: each is started with
//! `PR_SET_PDEATHSIG = SIGKILL` from one thread that lives as long as the
//! process (the death signal follows the thread that forked, so a worker
//! or blocking-pool thread that ends would take its adapters with it), so
//! even a SIGKILLed runner leaves no adapter behind, hung ones included.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};

use nix::sys::signal::Signal;

type Job = (Command, Sender<std::io::Result<Child>>);

fn jobs() -> &'static Mutex<Sender<Job>> {
    static JOBS: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    JOBS.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("adapter-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the adapter spawner thread");
        }
        Mutex::new(tx)
    })
}

/// Spawn `cmd` so that it receives SIGKILL when this process ends.
pub fn spawn_tied(mut cmd: Command) -> std::io::Result<Child> {
    let parent = std::process::id();
    // SAFETY: the closure runs between fork and exec and only makes two
    // async-signal-safe system calls (prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            // The parent may have died before the call: then end now.
            if nix::unistd::getppid().as_raw() as u32 != parent {
                return Err(std::io::Error::other("the runner is gone"));
            }
            Ok(())
        });
    }
    let (tx, rx) = channel();
    jobs()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((cmd, tx))
        .map_err(|_| std::io::Error::other("the adapter spawner thread is gone"))?;
    rx.recv()
        .map_err(|_| std::io::Error::other("the adapter spawner thread is gone"))?
}
