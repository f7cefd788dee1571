//! Helpers of the network-namespace tests: starting a harness, probing TCP
//! between namespaces, and checking that nothing of a run is left (after a
//! drop, a panic, or a SIGKILLed owner and `cleanup_leftovers`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use faultline_harness::netns::{RunId, cleanup_leftovers, process_in_run, runs_dir};
use faultline_harness::{NetnsHarness, NetnsOptions};

pub const NEEDS: &str = "the netns tests need root, iproute2 (`ip`), iptables, bash, coreutils `timeout` and libfaketime";

pub fn kvnode() -> PathBuf {
    faultline_harness::find_kvnode().expect("the kvnode binary")
}

/// A harness of `nodes` kvnodes in namespaces (under libfaketime).
pub fn harness(nodes: usize, dir: &std::path::Path) -> NetnsHarness {
    let mut opts = NetnsOptions::new(nodes, dir);
    opts.kvnode = Some(kvnode());
    NetnsHarness::start(opts).unwrap_or_else(|e| panic!("{NEEDS}: {e}"))
}

/// Whether a TCP connection from namespace `ns` to `addr` is established
/// within a second.
pub fn tcp_connects(ns: &str, addr: &str) -> bool {
    let (ip, port) = addr.rsplit_once(':').expect("host:port");
    let script = format!("exec 3<>/dev/tcp/{ip}/{port}");
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "timeout", "1", "bash", "-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("{NEEDS}: cannot run ip: {e}"));
    out.status.success()
}

fn stdout(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{NEEDS}: cannot run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What of run `run` exists: namespaces, host devices, its record folder,
/// and processes whose command line names it.
pub fn traces(run: &RunId) -> Vec<String> {
    let mut found = Vec::new();
    let ns_tag = format!("fl-{run}-");
    let dev_tag = format!("fl{run}");
    found.extend(
        stdout("ip", &["netns", "list"])
            .lines()
            .filter(|l| l.contains(&ns_tag))
            .map(|l| format!("namespace {l}")),
    );
    found.extend(
        stdout("ip", &["-o", "link", "show"])
            .lines()
            .filter(|l| l.contains(&dev_tag))
            .map(|l| format!("device {l}")),
    );
    found.extend(
        stdout("iptables", &["-S"])
            .lines()
            .filter(|l| l.contains(&ns_tag))
            .map(|l| format!("host rule {l}")),
    );
    if runs_dir().join(run.as_str()).exists() {
        found.push(format!(
            "record folder {}",
            runs_dir().join(run.as_str()).display()
        ));
    }
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if process_in_run(pid, run) {
            found.push(format!("process {pid}"));
        }
    }
    found
}

/// The iptables rules inside namespace `ns`.
pub fn rules_in(ns: &str) -> String {
    stdout("ip", &["netns", "exec", ns, "iptables", "-S", "INPUT"])
}

/// Asserts that run `run` is in force: it has a namespace, a host device, a
/// record folder and a process.
pub fn assert_present(run: &RunId) {
    let t = traces(run);
    for kind in ["namespace", "device", "record", "process"] {
        assert!(t.iter().any(|x| x.starts_with(kind)), "no {kind}: {t:?}");
    }
}

/// Asserts that run `run` is present, drops its `owner`, and asserts that
/// nothing of the run is left.
pub fn assert_a_drop_removes_everything<T>(owner: T, run: &RunId) {
    assert_present(run);
    drop(owner);
    assert_eq!(traces(run), Vec::<String>::new());
}

/// Starts a run with `start` (which returns what owns the run and its id)
/// and panics while it is in force: asserts that the run was present and
/// that nothing of it is left after the unwind.
pub fn assert_a_panic_removes_everything<T>(start: impl FnOnce() -> (T, RunId)) {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (_owner, run) = start();
        tx.send(run.clone()).unwrap();
        assert_present(&run);
        panic!("planted panic with a run in force");
    }));
    assert!(result.is_err());
    let run = rx.recv().unwrap();
    assert_eq!(traces(&run), Vec::<String>::new());
}

/// The environment variable naming the folder of a run owner started by
/// [`assert_cleanup_after_sigkilled_owner`].
const OWNER_DIR: &str = "FL_NETNS_CHILD_DIR";

/// In the ignored helper test run by
/// [`assert_cleanup_after_sigkilled_owner`]: the folder it was given.
pub fn owner_dir() -> PathBuf {
    match std::env::var_os(OWNER_DIR) {
        Some(dir) => PathBuf::from(dir),
        None => panic!("only run as a child of a sigkilled-owner test"),
    }
}

/// In that helper, once its run is in force: writes the run id to
/// `dir/run-id` and waits (two minutes at most) to be killed.
pub fn publish_run_and_wait(dir: &Path, run: &RunId) {
    std::fs::write(dir.join("run-id"), run.as_str()).unwrap();
    std::thread::sleep(Duration::from_secs(120));
}

/// Starts this test binary again running only the ignored test `helper`
/// (which sets up a run and calls [`publish_run_and_wait`]), SIGKILLs it
/// once its run is in force, and asserts that the run outlives its owner
/// until `cleanup_leftovers` removes all of it without a problem.
pub fn assert_cleanup_after_sigkilled_owner(helper: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", helper, "--test-threads=1"])
        .env(OWNER_DIR, dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{NEEDS}: cannot start the child: {e}"));
    let id_file = dir.path().join("run-id");
    let mut run = None;
    let until = Instant::now() + Duration::from_secs(30);
    while run.is_none() && Instant::now() < until && child.try_wait().unwrap().is_none() {
        run = std::fs::read_to_string(&id_file)
            .ok()
            .and_then(|s| RunId::parse(s.trim()));
        std::thread::sleep(Duration::from_millis(20));
    }
    let Some(run) = run else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child did not set up a run within 30 s (see its stderr above)");
    };
    assert_present(&run);
    child.kill().unwrap();
    child.wait().unwrap();
    // The owner is dead, its leftovers are not.
    assert_present(&run);
    let report = cleanup_leftovers();
    assert!(report.cleaned.contains(&run.to_string()), "{report:?}");
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(traces(&run), Vec::<String>::new());
}
