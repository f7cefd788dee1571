//! `faultline run --groups N`: the sharded stack (a controller group plus
//! shard groups of real kvnode processes) under the `shard-move` nemesis.
//! Issue 8's "done when" run ends valid with shard moves on record, and each
//! planted shardkv bug is caught (exit 1, a counterexample). The runs take
//! turns (one lock) so each has the machine's cores to itself, as the
//! detection rates in `faultline bugs` were measured.

mod run_support;

use std::path::PathBuf;
use std::process::Output;
use std::sync::Mutex;

use run_support::{command, only_run_dir, read_json, reap_kvnodes};

/// One sharded run at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A finished run: the output, its folder (inside `_dir`) and the events
/// of its history.
struct Run {
    out: Output,
    path: PathBuf,
    events: Vec<serde_json::Value>,
    _dir: tempfile::TempDir,
}

/// Run `faultline run ARGS` into a fresh store. Fails if a kvnode outlived
/// the run.
fn sharded_run(args: &[&str]) -> Run {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = command(&dir.path().join("runs"))
        .arg("run")
        .args(args)
        .args(["--store", store.to_str().unwrap()])
        .output()
        .unwrap();
    let path = only_run_dir(&store);
    assert_eq!(reap_kvnodes(&path), 0, "kvnode processes outlived the run");
    let events = std::fs::read_to_string(path.join("history.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Run {
        out,
        path,
        events,
        _dir: dir,
    }
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The `ok` completions of nemesis action `f`.
fn nemesis_oks<'a>(events: &'a [serde_json::Value], f: &str) -> Vec<&'a serde_json::Value> {
    events
        .iter()
        .filter(|e| e["process"] == "nemesis" && e["f"] == f && e["type"] == "ok")
        .collect()
}

#[test]
fn sharded_append_under_shard_moves_and_kills_is_valid() {
    let Run {
        out,
        path: run,
        events,
        _dir: _keep,
    } = sharded_run(&[
        "--workload",
        "append",
        "--groups",
        "3",
        "--replicas",
        "3",
        "--nemesis",
        "shard-move,kill",
        "--time-limit",
        "40",
        "--seed",
        "8",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "valid");
    assert!(
        results["nemesis"]["kill"].as_u64().unwrap() >= 1,
        "{results}"
    );
    assert!(
        results["nemesis"]["shard-move"].as_u64().unwrap() >= 3,
        "{results}"
    );
    assert_eq!(results["final_reads"]["recovered"], true, "{results}");
    assert!(
        results["final_reads"]["unread"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Every recorded start moved shards, with its configuration numbers.
    let starts = nemesis_oks(&events, "start-shard-move");
    assert!(starts.len() >= 3, "{} shard moves recorded", starts.len());
    for s in &starts {
        let v = &s["value"];
        assert!(!v["moved"].as_array().unwrap().is_empty(), "{v}");
        assert_eq!(v["from_config"].as_u64().unwrap() + 1, v["config"], "{v}");
    }
    // The final heal joined every group.
    let heal = nemesis_oks(&events, "stop-shard-move");
    let last = heal.last().expect("a final heal");
    assert_eq!(last["value"]["op"], "join");
    assert_eq!(last["value"]["gids"], serde_json::json!([1, 2, 3]));
    // Operations were answered by shard group members, named g<gid>n<id>.
    let served: std::collections::BTreeSet<&str> =
        events.iter().filter_map(|e| e["node"].as_str()).collect();
    for gid in 1..=3 {
        assert!(
            served.iter().any(|n| n.starts_with(&format!("g{gid}n"))),
            "no operation served by group {gid}: {served:?}"
        );
    }
    // Node logs under their names; data directories not kept.
    for node in ["c1", "c3", "g1n1", "g3n3"] {
        assert!(
            run.join("nodes").join(node).join("node.log").is_file(),
            "no log for {node}"
        );
    }
    assert!(!run.join("cluster").exists());
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["options"]["groups"], 3);
    assert!(test["replay"].as_str().unwrap().contains("--groups 3"));
}

/// `faultline run` with shard moves every second and bug `bug` planted
/// finds a violation.
fn caught(bug: &str, seed: &str) {
    let Run {
        out,
        path: run,
        events,
        _dir: _keep,
    } = sharded_run(&[
        "--workload",
        "append",
        "--groups",
        "3",
        "--nemesis",
        "shard-move",
        "--nemesis-interval",
        "1",
        "--time-limit",
        "15",
        "--bug",
        bug,
        "--seed",
        seed,
    ]);
    assert_eq!(out.status.code(), Some(1), "{bug}: {}", describe(&out));
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "invalid");
    let cx = &results["checkers"]["linearizable"]["counterexample"];
    assert!(cx["key"].is_string(), "no counterexample: {results}");
    assert!(!nemesis_oks(&events, "start-shard-move").is_empty());
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["options"]["bug"], bug);
}

#[test]
fn skip_session_transfer_is_caught() {
    caught("skip-session-transfer", "21");
}

#[test]
fn serve_during_handoff_is_caught() {
    caught("serve-during-handoff", "22");
}

#[test]
fn early_gc_is_caught() {
    caught("early-gc", "23");
}
