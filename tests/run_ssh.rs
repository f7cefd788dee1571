//! `faultline run --hosts FILE` through SSH only: the "hosts" are network
//! namespaces each running its own sshd (see `ssh_support`), the kvnodes
//! are started by those sshds in the namespaces, and every fault goes over
//! the SSH sessions. A valid run is valid, a planted bug is found, an
//! unreachable host is a clear exit-2 error, and nothing is left behind —
//! also after a SIGKILLed runner and `faultline clean`. Needs root and
//! `/usr/sbin/sshd`; skips with the reason otherwise.

mod run_support;
mod ssh_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use run_support::{command, describe, only_run_dir, read_json};
use ssh_support::{SshFixture, processes_mentioning, remote_nodes_under, unavailable, wait_for};

macro_rules! require_fixture {
    () => {
        if let Some(why) = unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// `faultline` with its run markers and leftovers records in `dir`.
fn faultline(dir: &Path) -> Command {
    let mut c = command(&dir.join("runs"));
    c.env("FAULTLINE_NETNS_DIR", dir.join("netns"));
    c
}

fn run_line(dir: &Path, hosts: &Path, line: &str) -> std::process::Output {
    faultline(dir)
        .arg("run")
        .args(line.split_whitespace())
        .args(["--hosts", hosts.to_str().unwrap()])
        .args(["--store", dir.join("store").to_str().unwrap()])
        .output()
        .unwrap()
}

/// Nothing of faultline's left: no node process from the hosts' folders,
/// no run folder on any host, no rule in any host namespace, no record,
/// no ssh master.
fn assert_nothing_left(fx: &SshFixture, dir: &Path) {
    let gone = wait_for(Duration::from_secs(10), || {
        remote_nodes_under(fx.dir.path()).is_empty()
    });
    assert!(
        gone,
        "node processes left: {:?}",
        remote_nodes_under(fx.dir.path())
    );
    for ip in &fx.ips {
        let runs = fx.host_dir(*ip).join("runs");
        assert!(!runs.exists(), "{} left behind", runs.display());
    }
    let rules = fx.rules();
    assert!(!rules.contains("fl-"), "rules left: {rules}");
    let records: Vec<_> = std::fs::read_dir(dir.join("netns"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(records.is_empty(), "records left: {records:?}");
    let masters = processes_mentioning(&dir.join("netns").display().to_string());
    assert!(masters.is_empty(), "ssh masters left: {masters:?}");
}

#[test]
fn valid_run_over_ssh_only() {
    require_fixture!();
    let fx = SshFixture::start(3);
    let dir = tempfile::tempdir().unwrap();
    let out = run_line(
        dir.path(),
        &fx.hosts_file(),
        "--workload register --nemesis kill,pause,partition,clock --time-limit 12 \
         --nemesis-interval 2 --concurrency 4 --seed 7",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        describe(&out),
        fx.sshd_logs()
    );
    assert!(stdout.contains("over SSH on root@"), "{stdout}");
    let run = only_run_dir(&dir.path().join("store"));
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["mode"], "ssh", "{test}");
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "valid", "{results}");
    // Faults of every kind went over SSH (a pause aimed at a node another
    // fault killed is refused, as locally: counted, not required).
    let n = |f: &str| results["nemesis"][f].as_u64().unwrap_or(0);
    for f in ["kill", "partition", "clock"] {
        assert!(n(f) >= 1, "no {f} fault: {}", results["nemesis"]);
    }
    let pause_tried = n("pause")
        + results["nemesis_errors"].as_array().map_or(0, |e| {
            e.iter().filter(|e| e.to_string().contains("pause")).count() as u64
        });
    assert!(pause_tried >= 1, "no pause: {}", results["nemesis"]);
    // The nodes' logs came back from the hosts.
    for id in 1..=3 {
        let log = std::fs::read_to_string(run.join(format!("nodes/{id}/node.log"))).unwrap();
        assert!(log.contains("serving"), "node {id} log: {log}");
    }
    // The binary was uploaded once per host, into its cache.
    for ip in &fx.ips {
        let bins: Vec<_> = std::fs::read_dir(fx.host_dir(*ip).join("bin"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(bins.len(), 1, "{bins:?}");
    }
    assert_nothing_left(&fx, dir.path());
}

#[test]
fn planted_bug_is_found_over_ssh() {
    require_fixture!();
    let fx = SshFixture::start(3);
    let dir = tempfile::tempdir().unwrap();
    let out = run_line(
        dir.path(),
        &fx.hosts_file(),
        "--workload append --bug no-dedup --nemesis kill --time-limit 12 \
         --nemesis-interval 2 --seed 1",
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let run = only_run_dir(&dir.path().join("store"));
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "invalid", "{results}");
    assert!(results["checkers"]["linearizable"]["counterexample"].is_object());
    assert!(results["nemesis"]["kill"].as_u64().unwrap() >= 1);
    assert_nothing_left(&fx, dir.path());
}

#[test]
fn unreachable_host_is_a_clear_error() {
    require_fixture!();
    let fx = SshFixture::start(1);
    let dir = tempfile::tempdir().unwrap();
    // The fixture's host and an address nothing answers on.
    let hosts = fx.write_hosts(
        "unreachable.toml",
        &[fx.ips[0], "192.0.2.1".parse().unwrap()],
        2,
    );
    let mut child = faultline(dir.path())
        .args(["run", "--replicas", "2", "--time-limit", "5"])
        .args(["--hosts", hosts.to_str().unwrap()])
        .args(["--store", dir.path().join("store").to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    // No hang: the connect timeout is 2 s.
    wait_for(Duration::from_secs(60), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if status.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{said}");
    assert!(
        said.contains("cannot connect to root@192.0.2.1:22 over SSH"),
        "{said}"
    );
    assert_nothing_left(&fx, dir.path());
    // Bad input is refused before any connection, naming file and line.
    let bad = fx.dir.path().join("bad.toml");
    std::fs::write(&bad, "[[host]]\naddress = \"10.0.0.1\"\npassword = \"x\"\n").unwrap();
    let out = run_line(dir.path(), &bad, "--time-limit 5");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.toml:3"), "{stderr}");
}

#[test]
fn clean_after_a_killed_runner_removes_everything_remote() {
    require_fixture!();
    let fx = SshFixture::start(3);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut child = faultline(dir.path())
        .args(["run", "--time-limit", "120", "--nemesis", "partition,pause"])
        .args(["--nemesis-interval", "1", "--concurrency", "4"])
        .args(["--hosts", fx.hosts_file().to_str().unwrap()])
        .args(["--store", store.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until operations run and a partition rule is in force.
    let going = wait_for(Duration::from_secs(60), || {
        let Ok(run) = std::panic::catch_unwind(|| only_run_dir(&store)) else {
            return false;
        };
        let h = std::fs::read_to_string(run.join("history.jsonl")).unwrap_or_default();
        h.lines().count() > 50 && fx.rules().contains("fl-")
    });
    assert!(going, "the run did not get going");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    let _ = child.wait();
    // The remote side outlives the runner.
    assert!(!remote_nodes_under(fx.dir.path()).is_empty());
    let out = faultline(dir.path()).arg("clean").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_nothing_left(&fx, dir.path());
    let again = faultline(dir.path()).arg("clean").output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{stdout}");
}
