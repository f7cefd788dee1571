//! Stopping a run from outside: Ctrl-C (SIGINT) mid-run stops clients, heals,
//! stops every node and leaves a partial run folder marked interrupted (exit
//! 2); a runner killed outright (SIGKILL) leaves its nodes running, and
//! `faultline clean` finds them by the run's marker and stops them.

mod run_support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use run_support::{
    command, kvnodes_under, only_run_dir, processes_under, read_json, reap_kvnodes, reap_processes,
    wait_for,
};

/// Start a long run and wait until it has recorded some operations and a
/// fault is in force.
fn start_run(dir: &Path) -> Child {
    start_run_of(dir, &[])
}

/// [`start_run`] with further `faultline run` flags.
fn start_run_of(dir: &Path, extra: &[&str]) -> Child {
    let store = dir.join("store");
    let child = command(&dir.join("runs"))
        .args(["run", "--time-limit", "120", "--nemesis", "kill,pause"])
        .args(extra)
        .args(["--nemesis-interval", "2", "--concurrency", "4"])
        .args(["--store", store.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = wait_for(Duration::from_secs(60), || {
        std::fs::read_dir(&store)
            .ok()
            .and_then(|_| {
                let run = std::panic::catch_unwind(|| only_run_dir(&store)).ok()?;
                let h = std::fs::read_to_string(run.join("history.jsonl")).ok()?;
                Some(h.lines().count() > 50 && h.contains("\"type\":\"ok\",\"f\":\"start-"))
            })
            .unwrap_or(false)
    });
    assert!(started, "the run did not get going");
    child
}

/// Send `sig` to the faultline process this test started.
fn signal(child: &Child, sig: Signal) {
    kill(Pid::from_raw(child.id() as i32), sig)
        .unwrap_or_else(|e| panic!("{sig} to faultline: {e}"));
}

fn wait_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let mut status = None;
    wait_for(timeout, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status
}

#[test]
fn sigint_mid_run_stops_everything_and_marks_the_run_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = start_run(dir.path());
    let run = only_run_dir(&dir.path().join("store"));
    assert!(!kvnodes_under(&run).is_empty());
    signal(&child, Signal::SIGINT);
    let status = wait_exit(&mut child, Duration::from_secs(90));
    if status.is_none() {
        let _ = child.kill();
    }
    let leftover = reap_kvnodes(&run);
    let status = status.expect("faultline exited after SIGINT");
    assert_eq!(status.code(), Some(2));
    assert_eq!(leftover, 0, "kvnode processes outlived the interrupted run");
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["interrupted"], true, "{test}");
    assert!(test["end"].is_string());
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["interrupted"], true);
    // Every fault started was healed before the nodes stopped.
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    for kind in ["kill", "pause"] {
        let n = |f: &str| {
            history
                .lines()
                .filter(|l| l.contains(&format!("\"type\":\"ok\",\"f\":\"{f}-{kind}\"")))
                .count()
        };
        assert_eq!(n("start"), n("stop"), "{kind}");
    }
    assert!(std::fs::read_dir(dir.path().join("runs")).map_or(true, |mut d| d.next().is_none()));
}

#[test]
fn clean_stops_the_nodes_of_a_killed_runner() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = start_run(dir.path());
    let run = only_run_dir(&dir.path().join("store"));
    signal(&child, Signal::SIGKILL);
    let _ = child.wait();
    // The nodes outlive a SIGKILLed runner (paused ones stay paused).
    let orphans = kvnodes_under(&run);
    assert!(!orphans.is_empty(), "expected orphaned kvnodes");
    let out = command(&dir.path().join("runs"))
        .arg("clean")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let gone = wait_for(Duration::from_secs(10), || kvnodes_under(&run).is_empty());
    let leftover = reap_kvnodes(&run);
    assert!(
        gone && leftover == 0,
        "clean left {leftover} kvnode(s): {stdout}"
    );
    assert!(stdout.contains("1 leftover run(s) cleaned"), "{stdout}");
    assert!(
        std::fs::read_dir(dir.path().join("runs"))
            .unwrap()
            .next()
            .is_none()
    );
    // A second clean finds nothing.
    let out = command(&dir.path().join("runs"))
        .arg("clean")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 leftover run(s)"));
}

/// A killed runner of another system leaves that system's processes (here
/// etcd members, not kvnodes): clean stops them by the command the marker
/// recorded.
#[test]
fn clean_stops_the_etcd_members_of_a_killed_runner() {
    if faultline_harness_etcd_missing() {
        eprintln!("skipped: no etcd binary (apt-get install etcd-server, or scripts/setup.sh)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = start_run_of(dir.path(), &["--db", "etcd"]);
    let run = only_run_dir(&dir.path().join("store"));
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    let _ = child.wait();
    assert!(
        !processes_under(&run, "etcd").is_empty(),
        "expected orphaned etcd members"
    );
    let out = command(&dir.path().join("runs"))
        .arg("clean")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let gone = wait_for(Duration::from_secs(10), || {
        processes_under(&run, "etcd").is_empty()
    });
    let leftover = reap_processes(&run, "etcd");
    assert!(
        gone && leftover == 0,
        "clean left {leftover} etcd(s): {stdout}"
    );
    assert!(stdout.contains("killed etcd"), "{stdout}");
}

fn faultline_harness_etcd_missing() -> bool {
    !Path::new("/usr/bin/etcd").exists()
        && std::env::var_os("PATH")
            .is_none_or(|p| !std::env::split_paths(&p).any(|d| d.join("etcd").is_file()))
}
