//! A short `faultline run` on the correct build under kill and pause: exit 0,
//! a valid verdict, every fault recorded and healed, the whole store layout
//! written, and no node process left behind.

mod run_support;

use run_support::{command, kvnodes_under, only_run_dir, read_json, reap_kvnodes};

#[test]
fn a_short_run_under_kill_and_pause_is_valid_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let runs = dir.path().join("runs");
    let out = command(&runs)
        .args(["run", "--time-limit", "8", "--nemesis", "kill,pause"])
        .args([
            "--nemesis-interval",
            "3",
            "--concurrency",
            "5",
            "--seed",
            "42",
        ])
        .args(["--store", store.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let run = only_run_dir(&store);
    let leftover = reap_kvnodes(&run);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(leftover, 0, "kvnode processes outlived the run");
    assert!(
        stdout.contains("VALID") && stdout.contains(&run.display().to_string()),
        "{stdout}"
    );

    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "valid");
    assert_eq!(results["checkers"]["linearizable"]["verdict"], "valid");
    assert!(results["ops"]["ok"].as_u64().unwrap() > 20, "{results}");
    assert!(
        results["nemesis"]["kill"].as_u64().unwrap() >= 1,
        "{results}"
    );
    assert!(
        results["nemesis"]["pause"].as_u64().unwrap() >= 1,
        "{results}"
    );
    assert_eq!(results["final_reads"]["recovered"], true, "{results}");
    assert!(results["latency_ms"]["p50"].as_f64().is_some());

    let test = read_json(&run.join("test.json"));
    assert_eq!(test["seed"], 42);
    assert_eq!(test["interrupted"], false);
    assert!(test["end"].is_string());
    assert_eq!(
        test["options"]["nemesis"],
        serde_json::json!(["kill", "pause"])
    );

    // Every fault started was stopped, in the history itself.
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = history
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for kind in ["kill", "pause"] {
        let ok = |f: String| {
            lines
                .iter()
                .filter(|e| e["process"] == "nemesis" && e["f"] == f.as_str() && e["type"] == "ok")
                .count()
        };
        assert!(ok(format!("start-{kind}")) >= 1);
        assert_eq!(
            ok(format!("start-{kind}")),
            ok(format!("stop-{kind}")),
            "{kind}"
        );
    }
    let indexes: Vec<u64> = lines.iter().map(|e| e["index"].as_u64().unwrap()).collect();
    assert!(indexes.windows(2).all(|w| w[1] == w[0] + 1));

    for file in [
        "index.html",
        "history.csv",
        "rate.svg",
        "nodes/1/node.log",
        "nodes/3/node.log",
    ] {
        assert!(run.join(file).is_file(), "missing {file}");
    }
    assert!(
        !run.join("nodes/1/data").exists(),
        "data directories are not kept"
    );
    assert!(store.join("index.html").is_file());
    // The run removed its marker.
    assert!(std::fs::read_dir(&runs).map_or(true, |mut d| d.next().is_none()));
    assert!(kvnodes_under(&run).is_empty());
}
