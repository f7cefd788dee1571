//! Whether a node serves: its `{addr}` accepts a TCP connection, or the
//! system file's ready command exits 0 within a few seconds (run on the
//! control side, where the clients are).

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A TCP connect or a ready command gets this long.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// How a node is probed.
#[derive(Debug, Clone)]
pub enum Probe {
    Tcp(String),
    /// Program and arguments, rendered.
    Command(Vec<String>),
}

impl Probe {
    /// `Ok` when the node is ready; else why not.
    pub fn check(&self, cwd: &Path) -> Result<(), String> {
        match self {
            Probe::Tcp(addr) => {
                let a: SocketAddr = addr.parse().map_err(|e| format!("address {addr:?}: {e}"))?;
                TcpStream::connect_timeout(&a, Duration::from_millis(500))
                    .map(|_| ())
                    .map_err(|e| format!("connecting to {addr}: {e}"))
            }
            Probe::Command(argv) => {
                let mut child = Command::new(&argv[0])
                    .args(&argv[1..])
                    .current_dir(cwd)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("ready.command {:?}: {e}", argv[0]))?;
                let until = Instant::now() + PROBE_TIMEOUT;
                loop {
                    match child.try_wait() {
                        Ok(Some(s)) if s.success() => return Ok(()),
                        Ok(Some(s)) => return Err(format!("ready.command: {s}")),
                        Ok(None) if Instant::now() < until => {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        _ => {
                            let _ = child.kill();
                            let _ = child.wait();
                            return Err(format!("ready.command took over {PROBE_TIMEOUT:?}"));
                        }
                    }
                }
            }
        }
    }
}
