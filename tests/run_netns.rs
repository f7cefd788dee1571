//! `faultline run` in network namespaces (needs root, `ip`, `iptables` and
//! libfaketime; on a host without them the test says so and checks that
//! the network faults are refused instead): every fault kind applied at
//! least once, a valid verdict, and afterwards no namespace, device,
//! iptables rule or kvnode process of the run left. `--no-netns` runs on
//! loopback and test.json says so.

mod run_support;

use std::process::Command;

use run_support::{command, only_run_dir, read_json, reap_kvnodes};

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn stdout_of(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_fault_kind_in_namespaces_then_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = command(&dir.path().join("runs"))
        .args(["run", "--nemesis", "partition,clock,packet,kill,pause"])
        .args(["--nemesis-interval", "2", "--time-limit", "12"])
        .args(["--concurrency", "5", "--seed", "7"])
        .args(["--store", store.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !is_root() {
        assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
        assert!(
            stderr.contains("needs nodes in network namespaces"),
            "{stderr}"
        );
        eprintln!("not root: checked that network faults are refused on loopback");
        return;
    }
    let run = only_run_dir(&store);
    assert_eq!(reap_kvnodes(&run), 0, "kvnode processes outlived the run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "valid", "{results}");
    for kind in ["partition", "clock", "packet", "kill", "pause"] {
        assert!(
            results["nemesis"][kind].as_u64().unwrap_or(0) >= 1,
            "{kind} never applied: {results}"
        );
    }
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["mode"], "netns");
    let id = test["netns_run"].as_str().expect("netns_run in test.json");
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

#[test]
fn no_netns_runs_on_loopback_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = command(&dir.path().join("runs"))
        .args([
            "run",
            "--no-netns",
            "--nemesis",
            "none",
            "--time-limit",
            "3",
        ])
        .args(["--concurrency", "3", "--seed", "3"])
        .args(["--store", store.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let run = only_run_dir(&store);
    assert_eq!(reap_kvnodes(&run), 0, "kvnode processes outlived the run");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["mode"], "loopback");
    assert_eq!(test["options"]["no_netns"], true);
    assert!(test["netns_run"].is_null());
}

#[test]
fn network_faults_on_loopback_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = command(&dir.path().join("runs"))
        .args(["run", "--no-netns", "--nemesis", "kill,partition"])
        .args(["--store", store.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--nemesis partition needs nodes in network namespaces")
            && stderr.contains("--no-netns was given"),
        "{stderr}"
    );
    assert!(!store.exists(), "a refused run made a run folder");
}
