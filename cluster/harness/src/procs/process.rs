//! One member child process: output appended to its log file, started in a
//! process group of its own (signals go to the group, so a wrapper script's
//! children stop, pause and die with it), always killed and reaped when
//! dropped.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::error::ProcessError;
use super::group::Launch;

#[derive(Debug)]
pub struct MemberProcess {
    name: String,
    child: Child,
    exited: bool,
}

impl MemberProcess {
    /// Start `launch`, appending stdout and stderr to `launch.log`.
    pub fn spawn(name: &str, launch: &Launch) -> Result<MemberProcess, ProcessError> {
        let log = &launch.log;
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(ProcessError::io("open", log))?;
        let err = out.try_clone().map_err(ProcessError::io("open", log))?;
        let mut cmd = Command::new(&launch.program);
        cmd.args(&launch.args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        if let Some(dir) = &launch.cwd {
            cmd.current_dir(dir);
        }
        let child = cmd
            .spawn()
            .map_err(ProcessError::io("start", &launch.program))?;
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

    /// Send `signal` to the member's process group (led by our own
    /// unreaped child, so its id cannot have been reused); an error when
    /// it has ended.
    pub fn signal(&mut self, signal: Signal) -> Result<(), ProcessError> {
        if self.exited() {
            return Err(ProcessError::NotRunning(self.name.clone()));
        }
        let pid = self.pid();
        killpg(Pid::from_raw(pid as i32), signal)
            .or_else(|_| kill(Pid::from_raw(pid as i32), signal))
            .map_err(|e| ProcessError::Signal {
                name: self.name.clone(),
                pid,
                signal: signal.as_str(),
                source: e.into(),
            })
    }

    /// SIGKILL the group and reap the member.
    pub fn kill(&mut self) {
        if !self.exited() {
            let _ = killpg(Pid::from_raw(self.pid() as i32), Signal::SIGKILL);
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.exited = true;
        } else {
            // Its forked children may outlive it in the group.
            let _ = killpg(Pid::from_raw(self.pid() as i32), Signal::SIGKILL);
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

    /// The command name of the process now (`/proc/<pid>/comm`).
    pub fn comm(&self) -> Option<String> {
        std::fs::read_to_string(format!("/proc/{}/comm", self.pid()))
            .ok()
            .map(|s| s.trim().to_string())
    }
}

impl Drop for MemberProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
