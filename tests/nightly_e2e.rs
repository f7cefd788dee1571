//! End to end: `faultline nightly` with real kvnode processes on loopback.
//! A short matrix on the correct build exits 0, writes its summary and the
//! store index's trend table (a corrupt summary already in the store is a
//! warning on the page, not a failure; network configurations are skipped
//! with the reason); a planted bug makes it exit 1; SIGINT stops the run in
//! progress cleanly and leaves a partial summary (exit 2).

mod run_support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use run_support::{
    command_in, describe, kvnodes_under, output_in, read_json, reap_kvnodes, wait_for,
};
use serde_json::Value;

/// The only summary in `store/nightly` (the corrupt one planted by a test
/// excepted).
fn summary(store: &Path) -> Value {
    let files: Vec<_> = std::fs::read_dir(store.join("nightly"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.ends_with("19990101T000000.json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    read_json(&files[0])
}

fn config<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no configuration {name} in {summary}"))
}

#[test]
fn a_short_nightly_is_valid_and_feeds_the_trend_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(store.join("nightly")).unwrap();
    std::fs::write(
        store.join("nightly/19990101T000000.json"),
        "{\"format\": tru",
    )
    .unwrap();
    let out = output_in(
        dir.path(),
        "nightly --workloads register --nemesis none,kill,partition --time-limit 5 \
         --test-count 1 --nemesis-interval 2 --seed 11 --no-netns",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let leftover = reap_kvnodes(&store);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(leftover, 0, "kvnode processes outlived the nightly");

    let s = summary(&store);
    assert_eq!(s["format"], "faultline-nightly-1");
    assert_eq!(
        (s["complete"].as_bool(), s["exit_code"].as_u64()),
        (Some(true), Some(0))
    );
    assert_eq!(s["mode"], "loopback");
    assert_eq!(s["options"]["seed"], 11);
    for name in ["register-none", "register-kill"] {
        let c = config(&s, name);
        let runs = c["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "{c}");
        let run = &runs[0];
        assert_eq!(run["outcome"], "valid", "{run}");
        assert!(run["ops_per_s"].as_f64().unwrap() > 0.0, "{run}");
        assert!(run["duration_s"].as_f64().unwrap() > 0.0, "{run}");
        let seed = run["seed"].as_u64().unwrap();
        assert!(
            stdout.contains(&format!("seed {seed}")),
            "seed printed: {stdout}"
        );
        // The run folder is a normal `faultline run` folder with that seed.
        let run_dir = store.join(run["run_dir"].as_str().unwrap());
        assert_eq!(read_json(&run_dir.join("test.json"))["seed"], seed);
        assert_eq!(read_json(&run_dir.join("results.json"))["verdict"], "valid");
        assert!(run_dir.join("index.html").is_file());
    }
    let skipped = config(&s, "register-partition")["skipped"]
        .as_str()
        .unwrap();
    assert!(
        skipped.contains("network namespaces") && skipped.contains("--no-netns"),
        "{skipped}"
    );
    assert!(stdout.contains("skipping register-partition"), "{stdout}");
    assert!(stdout.contains("2 valid, 1 skipped"), "the table: {stdout}");

    let index = std::fs::read_to_string(store.join("index.html")).unwrap();
    assert!(index.contains("id=\"trend-table\""), "no trend table");
    for name in ["register-none", "register-kill", "register-partition"] {
        assert!(index.contains(&format!("data-config=\"{name}\"")), "{name}");
    }
    assert!(index.contains("mark mark-valid") && index.contains("ops/s"));
    assert!(
        index.contains("19990101T000000.json"),
        "the corrupt summary is named"
    );
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!index.contains(attr), "the index must not load {attr}");
    }
}

#[test]
fn a_nightly_with_a_planted_bug_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = output_in(
        dir.path(),
        "nightly --workloads append --nemesis kill --bug no-dedup --time-limit 10 \
         --nemesis-interval 2 --seed 1 --no-netns",
    );
    let leftover = reap_kvnodes(&store);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(leftover, 0);
    let s = summary(&store);
    assert_eq!(s["exit_code"], 1);
    assert_eq!(s["options"]["bug"], "no-dedup");
    let run = &config(&s, "append-kill-no-dedup")["runs"][0];
    assert_eq!(run["outcome"], "invalid", "{run}");
    let run_dir = store.join(run["run_dir"].as_str().unwrap());
    assert_eq!(
        read_json(&run_dir.join("test.json"))["options"]["bug"],
        "no-dedup"
    );
    let index = std::fs::read_to_string(store.join("index.html")).unwrap();
    assert!(
        index.contains("mark mark-invalid"),
        "an invalid mark in the trend"
    );
}

#[test]
fn sigint_stops_the_current_run_and_leaves_a_partial_summary() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut child = command_in(
        dir.path(),
        "nightly --workloads register --nemesis kill,none --time-limit 120 \
         --nemesis-interval 2 --no-netns",
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let history = store.join("register-kill");
    let started = wait_for(Duration::from_secs(60), || {
        std::fs::read_dir(&history)
            .into_iter()
            .flatten()
            .flatten()
            .any(|run| {
                std::fs::read_to_string(run.path().join("history.jsonl"))
                    .is_ok_and(|h| h.lines().count() > 50)
            })
    });
    if !started {
        let _ = child.kill();
        let _ = child.wait();
        reap_kvnodes(&store);
        panic!("the first run did not get going");
    }
    assert!(!kvnodes_under(&store).is_empty());
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).expect("SIGINT to the nightly");
    let mut status = None;
    wait_for(Duration::from_secs(90), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let leftover = reap_kvnodes(&store);
    let status = status.expect("the nightly exited after SIGINT");
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        leftover, 0,
        "kvnode processes outlived the interrupted nightly"
    );

    let s = summary(&store);
    assert_eq!(
        (s["interrupted"].as_bool(), s["complete"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(s["exit_code"], 2);
    let run = &config(&s, "register-kill")["runs"][0];
    assert_eq!(
        (run["outcome"].as_str(), run["interrupted"].as_bool()),
        (Some("unknown"), Some(true)),
        "{run}"
    );
    let run_dir = store.join(run["run_dir"].as_str().unwrap());
    assert_eq!(read_json(&run_dir.join("test.json"))["interrupted"], true);
    assert_eq!(
        config(&s, "register-none")["runs"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let index = std::fs::read_to_string(store.join("index.html")).unwrap();
    assert!(index.contains("not run") && index.contains("interrupted"));
}
