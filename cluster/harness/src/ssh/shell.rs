//! [`Shell`]: one long-lived `sh` per host on the host's SSH session, for
//! the quick commands of the fault path (signals, clock offsets). A
//! command over a fresh channel costs a channel set-up and an sshd fork
//! (hundreds of ms on a loaded machine); a line written to a shell that is
//! already running costs a subshell fork. Each command runs in its own
//! subshell with stdin from `/dev/null` and stderr dropped, followed by an
//! end marker carrying its exit status; its stdout is what came before the
//! marker. A shell that times out or breaks is dropped by its owner
//! ([`super::remote::Remotes`]), which opens a new one or falls back to a
//! fresh channel.

use std::sync::Arc;

use openssh::{Child, ChildStdin, ChildStdout, Session, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A shell running on a host.
pub struct Shell {
    _child: Child<Arc<Session>>,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    seq: u64,
}

impl Shell {
    /// Start `sh` on `session` (through `sudo -n` when `sudo`).
    pub async fn open(session: Arc<Session>, sudo: bool) -> Result<Shell, String> {
        let mut cmd = if sudo {
            let mut c = Session::to_command(session, "sudo");
            c.args(["-n", "sh"]);
            c
        } else {
            Session::to_command(session, "sh")
        };
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd
            .spawn()
            .await
            .map_err(|e| format!("starting a shell: {e}"))?;
        let stdin = child.stdin().take().ok_or("the shell has no stdin")?;
        let stdout = child.stdout().take().ok_or("the shell has no stdout")?;
        Ok(Shell {
            _child: child,
            stdin,
            stdout: BufReader::new(stdout),
            seq: 0,
        })
    }

    /// Run `script`; its exit status and stdout.
    pub async fn run(&mut self, script: &str) -> Result<(i32, String), String> {
        self.seq += 1;
        let marker = format!("__faultline_done_{}", self.seq);
        let line = format!("( {script}\n) </dev/null 2>/dev/null; printf '\\n{marker} %d\\n' $?\n");
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("writing to the shell: {e}"))?;
        self.stdin
            .flush()
            .await
            .map_err(|e| format!("writing to the shell: {e}"))?;
        let mut lines: Vec<String> = Vec::new();
        loop {
            let mut l = String::new();
            let n = self
                .stdout
                .read_line(&mut l)
                .await
                .map_err(|e| format!("reading from the shell: {e}"))?;
            if n == 0 {
                return Err("the shell ended".into());
            }
            let l = l.trim_end_matches('\n');
            if let Some(code) = l.strip_prefix(&marker) {
                let code = code
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad end marker {l:?}"))?;
                if lines.last().is_some_and(String::is_empty) {
                    lines.pop();
                }
                return Ok((code, lines.join("\n")));
            }
            lines.push(l.to_string());
        }
    }
}
