//! One etcd child process: output appended to its log file, signalled by
//! pid, always killed and reaped when dropped.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::error::EtcdError;

#[derive(Debug)]
pub struct MemberProcess {
    name: String,
    child: Child,
    exited: bool,
}

impl MemberProcess {
    /// Start `program args...`, appending stdout and stderr to `log`.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[String],
        log: &Path,
    ) -> Result<MemberProcess, EtcdError> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(EtcdError::io("open", log))?;
        let err = out.try_clone().map_err(EtcdError::io("open", log))?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(EtcdError::io("start", program))?;
        Ok(MemberProcess {
            name: name.to_string(),
            child,
            exited: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has ended (reaping it).
    pub fn exited(&mut self) -> bool {
        if !self.exited {
            self.exited = matches!(self.child.try_wait(), Ok(Some(_)));
        }
        self.exited
    }

    /// Send `signal` to the member (our own unreaped child, so its pid
    /// cannot have been reused); an error when it has ended.
    pub fn signal(&mut self, signal: Signal) -> Result<(), EtcdError> {
        if self.exited() {
            return Err(EtcdError::NotRunning(self.name.clone()));
        }
        let pid = self.pid();
        kill(Pid::from_raw(pid as i32), signal).map_err(|e| EtcdError::Signal {
            name: self.name.clone(),
            pid,
            signal: signal.as_str(),
            source: e.into(),
        })
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if !self.exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.exited = true;
        }
    }

    /// SIGCONT + SIGTERM, wait up to `grace`, then SIGKILL.
    pub fn terminate(&mut self, grace: Duration) {
        let _ = self.signal(Signal::SIGCONT);
        if self.signal(Signal::SIGTERM).is_ok() {
            let until = Instant::now() + grace;
            while Instant::now() < until && !self.exited() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.kill();
    }
}

impl Drop for MemberProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
