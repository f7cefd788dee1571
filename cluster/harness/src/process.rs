//! One kvnode child process: spawned with its output appended to its log
//! file, signalled by pid, and always killed and reaped when dropped.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use faultline_raft::NodeId;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::error::HarnessError;

/// A running (or exited but not yet reaped) kvnode.
#[derive(Debug)]
pub struct NodeProcess {
    pub id: NodeId,
    child: Child,
    exited: Option<ExitStatus>,
}

impl NodeProcess {
    /// Start `binary args...`, appending stdout and stderr to `log`.
    pub fn spawn(
        id: NodeId,
        binary: &Path,
        args: &[String],
        log: &Path,
    ) -> Result<NodeProcess, HarnessError> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(HarnessError::io("open", log))?;
        let err = out.try_clone().map_err(HarnessError::io("open", log))?;
        let child = Command::new(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(HarnessError::io("start", binary))?;
        Ok(NodeProcess {
            id,
            child,
            exited: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has ended (reaping it).
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Send `signal` to the process (our own unreaped child, so its pid
    /// cannot have been reused); an error when it has ended.
    pub fn signal(&mut self, signal: Signal) -> Result<(), HarnessError> {
        if self.try_exit().is_some() {
            return Err(HarnessError::NotRunning(self.id));
        }
        let pid = self.pid();
        kill(Pid::from_raw(pid as i32), signal).map_err(|e| HarnessError::Signal {
            id: self.id,
            pid,
            signal: signal.as_str(),
            source: e.into(),
        })
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) -> ExitStatus {
        if let Some(status) = self.try_exit() {
            return status;
        }
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => {
                self.exited = Some(status);
                status
            }
            Err(_) => std::os::unix::process::ExitStatusExt::from_raw(9),
        }
    }

    /// SIGTERM (and SIGCONT, in case it is paused), wait up to `grace`, then
    /// SIGKILL; returns the exit status.
    pub fn terminate(&mut self, grace: Duration) -> ExitStatus {
        if self.signal(Signal::SIGTERM).is_ok() {
            let _ = self.signal(Signal::SIGCONT);
            let until = Instant::now() + grace;
            while Instant::now() < until {
                if let Some(status) = self.try_exit() {
                    return status;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.kill()
    }

    /// Wait up to `timeout` for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_exit() {
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
