//! End-to-end tests of `faultline check` and `faultline bench checker`, run
//! as a user would: exit codes (0 valid, 1 invalid, 2 unknown or error), the
//! JSON object, folder mode, and clear errors for malformed input.

use std::path::{Path, PathBuf};
use std::process::Command;

fn faultline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("run faultline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn porcupine() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/porcupine");
    assert!(
        dir.join("EXPECTED.tsv").is_file(),
        "test data missing at {}",
        dir.display()
    );
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn valid_and_invalid_files_exit_0_and_1_with_json() {
    let ok = porcupine().join("etcd/etcd_002.log");
    let (code, out, _) = faultline(&["check", s(&ok), "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["partitions"], 1);
    assert!(v["ops"].as_u64().unwrap() > 0 && v["elapsed_s"].is_number());
    assert!(v["counterexample"].is_null() && v["reason"].is_null());

    let bad = porcupine().join("kv/c10-bad.txt");
    let (code, out, _) = faultline(&["check", s(&bad), "--json"]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "invalid");
    assert_eq!(v["model"], "kv");
    assert!(
        v["counterexample"]["message"]
            .as_str()
            .unwrap()
            .contains("can't get")
    );
    assert!(v["counterexample"]["linearization"].is_array());

    let (code, out, _) = faultline(&["check", s(&bad)]);
    assert_eq!(code, 1);
    assert!(
        out.contains("INVALID") && out.contains("longest partial linearization"),
        "{out}"
    );
}

#[test]
fn a_folder_prints_a_line_per_file_and_a_summary() {
    let (code, out, _) = faultline(&["check", s(&porcupine().join("etcd"))]);
    assert_eq!(code, 1, "some etcd logs are invalid");
    assert_eq!(out.lines().count(), 51, "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("50 files: 10 valid, 40 invalid, 0 unknown, 0 errors"),
        "{out}"
    );
}

#[test]
fn a_tiny_budget_on_the_joint_search_exits_2_with_the_reason() {
    let hard = porcupine().join("kv/c50-ok.txt");
    let (code, out, _) = faultline(&[
        "check",
        s(&hard),
        "--no-partition",
        "--timeout",
        "0.005",
        "--json",
    ]);
    assert_eq!(code, 2, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "unknown");
    assert!(
        v["reason"].as_str().unwrap().contains("time budget"),
        "{out}"
    );
}

#[test]
fn malformed_input_names_file_and_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    std::fs::write(
        &path,
        "{\"index\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\"}\n{\"index\":1,\"process\":0,\"type\":\"okk\",\"f\":\"get\"}\n",
    )
    .unwrap();
    let (code, out, err) = faultline(&["check", s(&path)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("history.jsonl:2: expected \"type\": invoke, ok, fail or info"),
        "{err}"
    );

    let (code, _, err) = faultline(&["check", s(&path), "--format", "yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown format \"yaml\""), "{err}");

    let (code, _, err) = faultline(&["check", s(&dir.path().join("nope.jsonl"))]);
    assert_eq!(code, 2);
    assert!(err.contains("no such file"), "{err}");
}

#[test]
fn bench_checker_checks_a_generated_history() {
    let (code, out, err) = faultline(&[
        "bench", "checker", "--ops", "20000", "--keys", "20", "--procs", "16", "--seed", "7",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "valid");
    assert!(v["ops_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["peak_memory_mb"].as_f64().unwrap() > 0.0);
}
