//! Running the `ip` and `iptables` commands: finding them, checking the
//! caller may use them (root, namespaces supported), and turning a non-zero
//! exit into an error that carries the command line and its stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::error::NetnsError;

/// Directories searched for tools besides `PATH` (root's sbin may be missing
/// from a user's `PATH`).
const SBIN: &[&str] = &["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The full path of `tool`, or an error naming the package to install.
pub fn tool(tool: &'static str, package: &'static str) -> Result<PathBuf, NetnsError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN.iter().map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .ok_or(NetnsError::ToolMissing { tool, package })
}

/// The `ip` binary.
pub fn ip() -> Result<PathBuf, NetnsError> {
    tool("ip", "iproute2")
}

/// The `iptables` binary.
pub fn iptables() -> Result<PathBuf, NetnsError> {
    tool("iptables", "iptables")
}

/// The effective user id of this process.
pub fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Fail unless this process is root and `ip` and `iptables` exist.
pub fn preflight() -> Result<(), NetnsError> {
    let euid = euid();
    if euid != 0 {
        return Err(NetnsError::NotRoot { euid });
    }
    ip()?;
    iptables()?;
    Ok(())
}

/// Run `program args...`; its stdout on success, an error with the command
/// line, exit status and stderr otherwise.
pub fn run(program: &Path, args: &[&str]) -> Result<String, NetnsError> {
    let line = || {
        std::iter::once(program.display().to_string())
            .chain(args.iter().map(|a| a.to_string()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| NetnsError::Spawn {
            cmd: line(),
            source,
        })?;
    if !out.status.success() {
        return Err(NetnsError::Command {
            cmd: line(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    tracing::trace!(cmd = %line(), "ok");
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `ip args...`.
pub fn ip_cmd(args: &[&str]) -> Result<String, NetnsError> {
    run(&ip()?, args)
}

/// `iptables args...` inside namespace `ns` (`None`: the host's tables).
pub fn iptables_in(ns: Option<&str>, args: &[&str]) -> Result<String, NetnsError> {
    let ipt = iptables()?;
    let ipt = ipt.to_string_lossy();
    // -w: wait for the xtables lock rather than fail when another run holds it.
    match ns {
        Some(ns) => {
            let mut full = vec!["netns", "exec", ns, ipt.as_ref(), "-w"];
            full.extend_from_slice(args);
            ip_cmd(&full)
        }
        None => {
            let mut full = vec!["-w"];
            full.extend_from_slice(args);
            run(Path::new(ipt.as_ref()), &full)
        }
    }
}

/// The network namespaces that exist now (`ip netns list`).
pub fn namespaces() -> Result<Vec<String>, NetnsError> {
    let out = ip_cmd(&["netns", "list"])?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect())
}

/// Whether network device `dev` exists in the host namespace.
pub fn link_exists(dev: &str) -> bool {
    ip().is_ok_and(|ip| run(&ip, &["link", "show", "dev", dev]).is_ok())
}

/// The pids of processes inside namespace `ns` (`ip netns pids`).
pub fn netns_pids(ns: &str) -> Vec<i32> {
    ip_cmd(&["netns", "pids", ns])
        .map(|out| out.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}
