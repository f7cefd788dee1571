//! Shared by the `run_*` and `nightly_e2e` end-to-end tests: the built
//! `faultline` binary, a `kvnode` binary for it to start (built once into its
//! own target folder when it is not next to `faultline`, and put on the
//! child's PATH), commands whose store and run markers stay in a test's
//! temporary folder, process accounting (which kvnode processes of a run
//! folder are alive), and the network namespace checks (can this host run
//! nodes in namespaces; did a run leave any of its namespaces, devices or
//! iptables rules behind).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

pub fn faultline() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_faultline"))
}

/// A folder holding a `kvnode` binary (and `faultline-diskfs`): next to
/// `faultline` when the workspace was built (`cargo test --workspace`,
/// `cargo build --bins`); otherwise built now with `cargo build -p
/// faultline-kvnode --bin kvnode -p faultline-diskfs --bin faultline-diskfs`
/// into `<target>/run-tests-kvnode` (a target folder of its own, so the build
/// never waits on the lock of the cargo that runs these tests).
pub fn kvnode_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = faultline();
        let bin_dir = exe.parent().expect("faultline has a folder").to_path_buf();
        if bin_dir.join("kvnode").is_file() {
            return bin_dir;
        }
        let release = bin_dir.file_name().is_some_and(|n| n == "release");
        let target = bin_dir
            .parent()
            .expect("a target folder")
            .join("run-tests-kvnode");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "faultline-kvnode", "--bin", "kvnode"])
            .args(["-p", "faultline-diskfs", "--bin", "faultline-diskfs"])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("running cargo build for kvnode");
        assert!(status.success(), "building kvnode failed");
        let dir = target.join(if release { "release" } else { "debug" });
        assert!(
            dir.join("kvnode").is_file(),
            "no kvnode in {}",
            dir.display()
        );
        dir
    })
    .clone()
}

/// A `faultline` command that finds kvnode and keeps its run markers in `runs`.
pub fn command(runs: &Path) -> Command {
    let mut cmd = Command::new(faultline());
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![kvnode_dir()];
    paths.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(paths).expect("PATH"))
        .env("FAULTLINE_RUNS_DIR", runs);
    cmd
}

/// `faultline` with the arguments of `line` (split at white space: no
/// argument holds any) and `--store <dir>/store`, its run markers in
/// `<dir>/runs`, so everything a test's runs write stays in `dir`.
pub fn command_in(dir: &Path, line: &str) -> Command {
    let mut cmd = command(&dir.join("runs"));
    cmd.args(line.split_whitespace())
        .arg("--store")
        .arg(dir.join("store"));
    cmd
}

/// [`command_in`] run to its end.
pub fn output_in(dir: &Path, line: &str) -> Output {
    command_in(dir, line).output().expect("running faultline")
}

/// A finished command's exit code and output, for an assertion's message.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Pids of live kvnode processes whose command line mentions `dir`.
pub fn kvnodes_under(dir: &Path) -> Vec<u32> {
    processes_under(dir, "kvnode")
}

/// Pids of live processes named `comm` whose command line mentions `dir`.
pub fn processes_under(dir: &Path, comm: &str) -> Vec<u32> {
    let needle = dir.display().to_string();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm_of = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm_of.trim() != comm {
            continue;
        }
        // A zombie has an empty command line: it is not running.
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&needle) {
            pids.push(pid);
        }
    }
    pids
}

/// The only run folder under `store` (`<store>/<test>/<stamp>`).
pub fn only_run_dir(store: &Path) -> PathBuf {
    let mut runs = Vec::new();
    for test in std::fs::read_dir(store).expect("store exists").flatten() {
        // `store/latest` is a link to the newest run, not a test folder.
        if test.file_type().is_ok_and(|t| t.is_symlink()) || !test.path().is_dir() {
            continue;
        }
        for run in std::fs::read_dir(test.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if run.path().is_dir() {
                runs.push(run.path());
            }
        }
    }
    assert_eq!(runs.len(), 1, "run folders: {runs:?}");
    runs.remove(0)
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Wait until `f` holds, polling, at most `timeout`.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

/// SIGKILL whatever kvnode of `dir` is still alive (so a failing test leaves
/// nothing behind either); returns how many there were.
pub fn reap_kvnodes(dir: &Path) -> usize {
    reap_processes(dir, "kvnode")
}

/// SIGKILL whatever process named `comm` of `dir` is still alive; returns
/// how many there were.
pub fn reap_processes(dir: &Path, comm: &str) -> usize {
    let pids = processes_under(dir, comm);
    for &p in &pids {
        // A kvnode process this test's run started; one already gone is fine.
        let _ = kill(Pid::from_raw(p as i32), Signal::SIGKILL);
    }
    pids.len()
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Why nodes cannot run in network namespaces here (not root, `ip` or
/// `iptables` missing: what `faultline run` checks), or `None`.
pub fn netns_unavailable() -> Option<String> {
    if !is_root() {
        return Some("not root".into());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(["/sbin", "/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .collect();
    ["ip", "iptables"]
        .into_iter()
        .find(|tool| !dirs.iter().any(|d| d.join(tool).is_file()))
        .map(|tool| format!("`{tool}` is missing"))
}

pub fn stdout_of(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails if any network namespace, device or host iptables rule of the
/// namespace run `id` (test.json's `netns_run`) is left.
pub fn assert_no_netns_left(id: &str) {
    let ns = format!("fl-{id}-");
    assert!(
        !stdout_of("ip", &["netns", "list"]).contains(&ns),
        "namespaces of run {id} remain"
    );
    assert!(
        !stdout_of("ip", &["-o", "link", "show"]).contains(id),
        "devices of run {id} remain"
    );
    assert!(
        !stdout_of("iptables-save", &[]).contains(&ns),
        "host iptables rules of run {id} remain"
    );
}
