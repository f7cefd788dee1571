//! `faultline run --groups N`: the sharded stack (a controller group plus
//! shard groups of real kvnode processes) under the `shard-move` nemesis.
//! Issue 8's "done when" run ends valid with shard moves on record, and each
//! planted shardkv bug is caught (exit 1, a counterexample). In network
//! namespaces (root, `ip`, `iptables`, libfaketime) a sharded run takes the
//! network packages too, ends valid and leaves no namespace, device,
//! iptables rule or kvnode behind; without them it is refused before
//! anything starts, and the test says it skipped. The runs take turns (one
//! lock) so each has the machine's cores to itself, as the detection rates
//! in `faultline bugs` were measured.

mod run_support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;

use faultline_harness::deployment::Member;
use run_support::{
    assert_no_netns_left, describe, netns_unavailable, only_run_dir, output_in, read_json,
    reap_kvnodes,
};

/// One sharded run at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Run `faultline run LINE` (see `output_in`) into a fresh store: the
/// output, the run folder, the events of its history, and the temporary
/// folder holding it all (removed when dropped). Fails if a kvnode outlived
/// the run.
fn sharded_run(line: &str) -> (Output, PathBuf, Vec<serde_json::Value>, tempfile::TempDir) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = output_in(dir.path(), &format!("run {line}"));
    let path = only_run_dir(&dir.path().join("store"));
    assert_eq!(reap_kvnodes(&path), 0, "kvnode processes outlived the run");
    let events = std::fs::read_to_string(path.join("history.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out, path, events, dir)
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
    let (out, run, events, _dir) = sharded_run(
        "--workload append --groups 3 --replicas 3 --nemesis shard-move,kill \
         --time-limit 40 --seed 8",
    );
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
    let (out, run, events, _dir) = sharded_run(&format!(
        "--workload append --groups 3 --nemesis shard-move --nemesis-interval 1 \
         --time-limit 15 --bug {bug} --seed {seed}"
    ));
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

#[test]
fn sharded_run_in_namespaces_takes_network_faults_and_leaves_nothing() {
    let line = "--workload append --groups 2 --replicas 3 \
                --nemesis partition,packet,clock,shard-move --time-limit 20 --seed 31";
    if let Some(why) = netns_unavailable() {
        // Refused up front, saying why and what to use instead.
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let out = output_in(dir.path(), &format!("run {line}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
        assert!(
            stderr.contains("--nemesis partition,packet,clock needs nodes in network namespaces")
                && stderr.contains("shard-move,kill,pause"),
            "{stderr}"
        );
        assert!(!store.exists(), "a refused run made a run folder");
        eprintln!(
            "SKIPPED: {why}: a sharded run in network namespaces needs root, ip and iptables; \
             checked that the network packages are refused on loopback instead"
        );
        return;
    }
    let (out, run, events, _dir) = sharded_run(line);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("libfaketime.so.1 not found") {
        eprintln!("SKIPPED: libfaketime is missing (the clock package needs it): {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "valid", "{results}");
    for kind in ["partition", "packet", "clock", "shard-move"] {
        assert!(
            results["nemesis"][kind].as_u64().unwrap_or(0) >= 1,
            "{kind} never applied: {results}"
        );
    }
    assert_eq!(results["final_reads"]["recovered"], true, "{results}");
    // Cuts are between members by name (c<id>, g<gid>n<id>), across all
    // nine; an isolated leader is a leader of one group, cut from the rest.
    let starts = nemesis_oks(&events, "start-partition");
    for e in &starts {
        let cuts: Vec<(String, String)> =
            serde_json::from_value(e["value"]["cuts"].clone()).unwrap();
        assert!(!cuts.is_empty(), "{e}");
        for (from, to) in &cuts {
            for n in [from, to] {
                assert!(n.parse::<Member>().is_ok(), "{n:?} in {e}");
            }
        }
        if let Some(leader) = e["value"]["leader"].as_str() {
            assert_eq!(cuts.len(), 2 * 8, "{e}");
            assert!(cuts.iter().all(|(f, t)| f == leader || t == leader), "{e}");
        }
    }
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["mode"], "netns", "{test}");
    let id = test["netns_run"].as_str().expect("netns_run in test.json");
    assert_no_netns_left(id);
    if std::env::var_os("FAULTLINE_NETNS_DIR").is_none() {
        let record = Path::new("/run/faultline/netns").join(id);
        assert!(!record.exists(), "{} remains", record.display());
    }
}
