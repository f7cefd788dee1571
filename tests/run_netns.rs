//! `faultline run` in network namespaces (needs root, `ip`, `iptables` and
//! libfaketime; on a host without them the test says so and checks that
//! the network faults are refused instead): every fault kind applied at
//! least once, a valid verdict, and afterwards no namespace, device,
//! iptables rule or kvnode process of the run left. `--no-netns` runs on
//! loopback and test.json says so.

mod run_support;

use run_support::{
    assert_no_netns_left, describe, is_root, only_run_dir, output_in, read_json, reap_kvnodes,
};

#[test]
fn every_fault_kind_in_namespaces_then_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = output_in(
        dir.path(),
        "run --nemesis partition,clock,packet,kill,pause \
         --nemesis-interval 2 --time-limit 12 --concurrency 5 --seed 7",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !is_root() {
        assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
        assert!(
            stderr.contains("needs nodes in network namespaces"),
            "{stderr}"
        );
        eprintln!("not root: checked that network faults are refused on loopback");
        return;
    }
    let run = only_run_dir(&store);
    assert_eq!(reap_kvnodes(&run), 0, "kvnode processes outlived the run");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
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
    assert_no_netns_left(id);
}

#[test]
fn no_netns_runs_on_loopback_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = output_in(
        dir.path(),
        "run --no-netns --nemesis none --time-limit 3 --concurrency 3 --seed 3",
    );
    let run = only_run_dir(&store);
    assert_eq!(reap_kvnodes(&run), 0, "kvnode processes outlived the run");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["mode"], "loopback");
    assert_eq!(test["options"]["no_netns"], true);
    assert!(test["netns_run"].is_null());
}

#[test]
fn network_faults_on_loopback_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = output_in(dir.path(), "run --no-netns --nemesis kill,partition");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--nemesis partition needs nodes in network namespaces")
            && stderr.contains("--no-netns was given"),
        "{stderr}"
    );
    assert!(!store.exists(), "a refused run made a run folder");
}
