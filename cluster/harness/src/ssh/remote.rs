//! [`Remotes`]: one multiplexed OpenSSH session per host (the `openssh`
//! crate over the system `ssh`, a ControlMaster kept for the run), and the
//! remote executor built on it: run a shell script (as root, through
//! `sudo -n` when the host says so), upload a file (cached by content
//! hash), read a file back. Every command has a deadline, so a host that
//! stops answering gives an error, never a hang. Blocking calls: the
//! sessions live on a small runtime of their own.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openssh::{ControlPersist, KnownHosts, Session, SessionBuilder, Stdio};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::error::SshError;
use super::hosts::{Host, HostKeyChecking, HostsFile};
use super::shell::Shell;

/// How long one remote command may take (uploads get more).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the master asks a silent server whether it is alive
/// (`ServerAliveInterval`; three missed answers end the connection).
pub const SERVER_ALIVE: Duration = Duration::from_secs(2);

/// Quote `s` for a POSIX shell.
pub fn quote(s: &str) -> String {
    shlex::try_quote(s)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("'{}'", s.replace(['\0'], "")))
}

/// The sessions to every host of a hosts file.
pub struct Remotes {
    runtime: tokio::runtime::Runtime,
    hosts: Vec<Host>,
    sessions: Vec<Option<Arc<Session>>>,
    /// Each host's long-lived shell for quick commands (opened on first use).
    shells: Vec<Mutex<Option<Shell>>>,
}

fn builder(file: &HostsFile, host: &Host, control_dir: &Path) -> SessionBuilder {
    let mut b = SessionBuilder::default();
    b.user(host.user.clone())
        .port(host.port)
        .connect_timeout(Duration::from_secs(file.connect_timeout_s))
        .server_alive_interval(SERVER_ALIVE)
        .control_directory(control_dir)
        .control_persist(ControlPersist::IdleFor(
            std::num::NonZeroUsize::new(300).expect("nonzero"),
        ))
        .known_hosts_check(match file.host_key_checking {
            HostKeyChecking::Strict => KnownHosts::Strict,
            HostKeyChecking::AcceptNew => KnownHosts::Add,
        });
    if let Some(k) = &host.key {
        b.keyfile(k);
    }
    if let Some(k) = &file.known_hosts {
        b.user_known_hosts_file(k);
    }
    b
}

impl Remotes {
    /// Open one master connection per host (in parallel), each with its
    /// control socket under `control_dir`. Fails on the first host that
    /// cannot be reached within the file's connect timeout.
    pub fn connect(file: &HostsFile, control_dir: &Path) -> Result<Remotes, SshError> {
        std::fs::create_dir_all(control_dir)
            .map_err(|e| SshError::Local(format!("create {}: {e}", control_dir.display())))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("faultline-ssh")
            .enable_all()
            .build()
            .map_err(|e| SshError::Local(format!("cannot start the SSH runtime: {e}")))?;
        let deadline = Duration::from_secs(file.connect_timeout_s + 5);
        let results = runtime.block_on(async {
            let tries = file.hosts.iter().map(|h| {
                let b = builder(file, h, control_dir);
                let address = h.address.clone();
                async move {
                    match tokio::time::timeout(deadline, b.connect_mux(&address)).await {
                        Ok(r) => r.map_err(|e| error_chain(&e)),
                        Err(_) => Err(format!("no answer within {deadline:?}")),
                    }
                }
            });
            futures_join_all(tries).await
        });
        let mut sessions = Vec::new();
        let mut failure = None;
        for (h, r) in file.hosts.iter().zip(results) {
            match r {
                Ok(s) => sessions.push(Some(Arc::new(s))),
                Err(detail) => {
                    sessions.push(None);
                    failure.get_or_insert(SshError::Connect {
                        host: h.describe(),
                        detail,
                    });
                }
            }
        }
        let remotes = Remotes {
            runtime,
            hosts: file.hosts.clone(),
            shells: sessions.iter().map(|_| Mutex::new(None)).collect(),
            sessions,
        };
        match failure {
            // Dropping `remotes` closes the masters that did connect.
            Some(e) => Err(e),
            None => Ok(remotes),
        }
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    fn session(&self, i: usize) -> Result<&Arc<Session>, SshError> {
        self.sessions
            .get(i)
            .and_then(Option::as_ref)
            .ok_or_else(|| SshError::Local(format!("no SSH session to host #{i}")))
    }

    fn host(&self, i: usize) -> String {
        self.hosts
            .get(i)
            .map_or_else(|| format!("host #{i}"), Host::describe)
    }

    /// The command line that runs `script` on host `i` (as root through
    /// `sudo -n` when the host says so).
    fn wrap(&self, i: usize, script: &str) -> (String, Vec<String>) {
        let sudo = self.hosts.get(i).is_some_and(|h| h.sudo);
        if sudo {
            (
                "sudo".into(),
                vec!["-n".into(), "sh".into(), "-c".into(), script.into()],
            )
        } else {
            ("sh".into(), vec!["-c".into(), script.into()])
        }
    }

    /// Run `script` on host `i` with `input` on its stdin; its stdout, or
    /// an error with its stderr (`what` names it in messages).
    pub fn run_with_input(
        &self,
        i: usize,
        what: &str,
        script: &str,
        input: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<String, SshError> {
        let session = self.session(i)?;
        let (program, args) = self.wrap(i, script);
        let fail = |detail: String| SshError::Command {
            host: self.host(i),
            what: what.to_string(),
            detail,
        };
        let out = self.runtime.block_on(async {
            let work = async {
                let mut cmd = session.command(program);
                cmd.args(&args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .stdin(if input.is_some() {
                        Stdio::piped()
                    } else {
                        Stdio::null()
                    });
                let mut child = cmd.spawn().await.map_err(|e| error_chain(&e))?;
                if let (Some(data), Some(mut stdin)) = (input, child.stdin().take()) {
                    stdin
                        .write_all(data)
                        .await
                        .map_err(|e| format!("sending input: {e}"))?;
                    stdin
                        .shutdown()
                        .await
                        .map_err(|e| format!("closing input: {e}"))?;
                    drop(stdin);
                }
                child.wait_with_output().await.map_err(|e| error_chain(&e))
            };
            match tokio::time::timeout(timeout, work).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer within {timeout:?} (host slow or lost)")),
            }
        });
        let out = out.map_err(fail)?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(fail(format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    /// Run `script` on host `i`; its stdout.
    pub fn run(&self, i: usize, what: &str, script: &str) -> Result<String, SshError> {
        self.run_with_input(i, what, script, None, COMMAND_TIMEOUT)
    }

    /// Run the quick `script` on host `i` in its long-lived shell (opened on
    /// first use; a broken one is replaced, and a shell that cannot be had
    /// falls back to [`Remotes::run`]); its stdout. No stderr comes back:
    /// for commands whose failure the exit status says (signals, clock
    /// offsets).
    pub fn run_quick(&self, i: usize, what: &str, script: &str) -> Result<String, SshError> {
        let session = self.session(i)?.clone();
        let sudo = self.hosts.get(i).is_some_and(|h| h.sudo);
        let fail = |detail: String| SshError::Command {
            host: self.host(i),
            what: what.to_string(),
            detail,
        };
        let Some(slot) = self.shells.get(i) else {
            return self.run(i, what, script);
        };
        let mut shell = slot.lock().unwrap_or_else(|p| p.into_inner());
        let result = self.runtime.block_on(async {
            if shell.is_none() {
                match tokio::time::timeout(COMMAND_TIMEOUT, Shell::open(session, sudo)).await {
                    Ok(Ok(s)) => *shell = Some(s),
                    Ok(Err(e)) => return Err(e),
                    Err(_) => return Err(format!("no shell within {COMMAND_TIMEOUT:?}")),
                }
            }
            let Some(sh) = shell.as_mut() else {
                return Err("no shell".into());
            };
            match tokio::time::timeout(COMMAND_TIMEOUT, sh.run(script)).await {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "no answer within {COMMAND_TIMEOUT:?} (host slow or lost)"
                )),
            }
        });
        match result {
            Ok((0, out)) => Ok(out),
            Ok((code, _)) => Err(fail(format!("exit status {code}"))),
            Err(e) => {
                // The shell is in an unknown state: drop it (its channel
                // closes, the remote sh ends) and use a fresh channel.
                if let Some(sh) = shell.take() {
                    self.runtime.block_on(async move { drop(sh) });
                }
                drop(shell);
                tracing::debug!(host = %self.host(i), error = %e, "quick shell; using a fresh channel");
                self.run(i, what, script)
            }
        }
    }

    /// Put the executable `local` on host `i` under `<dir>/bin/`, named by
    /// its content hash, unless a file of that name is already there; the
    /// remote path.
    pub fn upload_cached(&self, i: usize, local: &Path, name: &str) -> Result<String, SshError> {
        let data = std::fs::read(local)
            .map_err(|e| SshError::Local(format!("read {}: {e}", local.display())))?;
        let hash = Sha256::digest(&data);
        let tag: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let dir = &self.hosts[i].dir;
        let path = format!("{dir}/bin/{name}-{tag}");
        let q = quote(&path);
        let there = self.run(
            i,
            "check the binary cache",
            &format!("if [ -x {q} ]; then echo yes; fi"),
        )?;
        if there.trim() == "yes" {
            tracing::debug!(host = %self.host(i), %path, "binary cached");
            return Ok(path);
        }
        let started = Instant::now();
        let script = format!(
            "set -e; mkdir -p {bin}; cat > {q}.part.$$; chmod 0755 {q}.part.$$; mv -f {q}.part.$$ {q}",
            bin = quote(&format!("{dir}/bin"))
        );
        self.run_with_input(
            i,
            &format!("upload {name}"),
            &script,
            Some(&data),
            Duration::from_secs(300),
        )?;
        tracing::info!(host = %self.host(i), %path, bytes = data.len(), took = ?started.elapsed(), "uploaded");
        Ok(path)
    }

    /// Copy the remote file `remote` of host `i` to `local` (an empty file
    /// when the remote one is missing).
    pub fn fetch(&self, i: usize, remote: &str, local: &Path) -> Result<(), SshError> {
        let text = self.run(
            i,
            "fetch a log",
            &format!("cat {} 2>/dev/null || true", quote(remote)),
        )?;
        if let Some(parent) = local.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| SshError::Local(format!("create {}: {e}", parent.display())))?;
        }
        std::fs::write(local, text)
            .map_err(|e| SshError::Local(format!("write {}: {e}", local.display())))
    }

    /// Close every master connection (what Drop does).
    pub fn close(&mut self) {
        let shells: Vec<Shell> = self
            .shells
            .iter()
            .filter_map(|m| m.lock().unwrap_or_else(|p| p.into_inner()).take())
            .collect();
        self.runtime.block_on(async move { drop(shells) });
        let sessions: Vec<Session> = self
            .sessions
            .iter_mut()
            .filter_map(Option::take)
            .filter_map(|s| Arc::try_unwrap(s).ok())
            .collect();
        if sessions.is_empty() {
            return;
        }
        self.runtime.block_on(async {
            for s in sessions {
                if let Err(e) = tokio::time::timeout(Duration::from_secs(5), s.close()).await {
                    tracing::warn!(error = %e, "closing an SSH master timed out");
                }
            }
        });
    }
}

impl Drop for Remotes {
    fn drop(&mut self) {
        self.close();
    }
}

/// Run futures concurrently and collect their outputs in order.
async fn futures_join_all<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("an SSH connect task panicked"));
    }
    out
}

/// An error and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// The local ssh command line (for cleanup without a session): `ssh` with
/// the host's user, port, key and the file's host-key policy, then the
/// remote command.
pub fn plain_ssh(file: &HostsFile, host: &Host, remote_command: &str) -> std::process::Command {
    let mut c = std::process::Command::new("ssh");
    c.args(["-o", "BatchMode=yes"])
        .arg("-o")
        .arg(format!("ConnectTimeout={}", file.connect_timeout_s))
        .arg("-o")
        .arg(format!(
            "StrictHostKeyChecking={}",
            match file.host_key_checking {
                HostKeyChecking::Strict => "yes",
                HostKeyChecking::AcceptNew => "accept-new",
            }
        ))
        .args(["-o", "ServerAliveInterval=2"])
        .args(["-p", &host.port.to_string(), "-l", &host.user]);
    if let Some(k) = &file.known_hosts {
        c.arg("-o")
            .arg(format!("UserKnownHostsFile={}", k.display()));
    }
    if let Some(k) = &host.key {
        c.args(["-o", "IdentitiesOnly=yes", "-i"]).arg(k);
    }
    c.arg("--").arg(&host.address).arg(remote_command);
    c
}

/// The remote command line (one string, run by the login shell) for
/// `script` on `host`.
pub fn remote_command(host: &Host, script: &str) -> String {
    if host.sudo {
        format!("sudo -n sh -c {}", quote(script))
    } else {
        format!("sh -c {}", quote(script))
    }
}

/// Ask every ControlMaster with a socket under `control_dir` to exit.
pub fn close_masters(control_dir: &Path) {
    let sockets: Vec<PathBuf> = std::fs::read_dir(control_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("master"))
        .filter(|p| p.exists())
        .collect();
    for s in sockets {
        let r = std::process::Command::new("ssh")
            .arg("-S")
            .arg(&s)
            .args(["-O", "exit", "faultline-master"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        tracing::debug!(socket = %s.display(), ?r, "closed an SSH master");
    }
}
