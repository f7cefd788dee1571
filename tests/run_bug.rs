//! The proof that the tool works: with the planted `no-dedup` bug (a retried
//! append applies twice) and leader kills, `faultline run` finds the
//! duplicate: exit 1, an invalid verdict with a counterexample.

mod run_support;

use run_support::{describe, only_run_dir, output_in, read_json, reap_kvnodes};

#[test]
fn no_dedup_under_kill_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = output_in(
        dir.path(),
        "run --workload append --bug no-dedup --nemesis kill \
         --time-limit 10 --nemesis-interval 2 --seed 1",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let run = only_run_dir(&store);
    assert_eq!(reap_kvnodes(&run), 0, "kvnode processes outlived the run");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stdout.contains("INVALID"), "{stdout}");
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "invalid");
    let cx = &results["checkers"]["linearizable"]["counterexample"];
    assert!(cx.is_object(), "no counterexample: {results}");
    assert!(cx["key"].is_string());
    assert!(results["nemesis"]["kill"].as_u64().unwrap() >= 1);
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["options"]["bug"], "no-dedup");
    assert!(run.join("index.html").is_file());
}
