//! Membership changes end to end: under `--nemesis membership` (remove a
//! member, add a fresh one, replace one; the stop restores the size) the
//! correct build stays valid, every change is in the history and the report
//! shades it in the package's colour; with the planted node bug
//! `removed-still-serves` (a removed member answers Gets from its frozen
//! state) the run is invalid. No kvnode outlives a run, added members
//! included.

mod run_support;

use run_support::{describe, only_run_dir, output_in, read_json, reap_kvnodes};

#[test]
fn correct_build_is_valid_under_membership_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = output_in(
        dir.path(),
        "run --workload register --nemesis membership --nemesis-interval 2 \
         --time-limit 20 --seed 11",
    );
    let run = only_run_dir(&dir.path().join("store"));
    assert_eq!(reap_kvnodes(&run), 0, "kvnode processes outlived the run");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "valid", "{results}");
    assert!(
        results["nemesis"]["membership"].as_u64().unwrap() >= 2,
        "{results}"
    );
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    assert!(
        history.contains("\"start-membership\""),
        "no change recorded"
    );
    assert!(history.contains("\"added\""), "no member added: {history}");
    let test = read_json(&run.join("test.json"));
    assert!(test.to_string().contains("#008b8b"), "membership's colour");
    // Added members have a folder (and a log) of their own.
    assert!(run.join("nodes/4").is_dir(), "no fresh member was started");
}

#[test]
fn removed_still_serves_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let out = output_in(
        dir.path(),
        "run --workload register --nemesis membership --nemesis-interval 2 \
         --time-limit 20 --seed 11 --bug removed-still-serves",
    );
    let run = only_run_dir(&dir.path().join("store"));
    assert_eq!(reap_kvnodes(&run), 0, "kvnode processes outlived the run");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "invalid", "{results}");
}
