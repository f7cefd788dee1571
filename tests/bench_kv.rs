//! End-to-end test of `faultline bench kv` as a user runs it: a one-second
//! load against a loopback kvnode group, its JSON object, and the Get / Put
//! split that `--reads` shapes (a read mode changes only the Gets, so the
//! benchmark reports them apart). Figures are printed, never asserted on.

use std::process::Command;

fn bench(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["bench", "kv"])
        .args(args)
        .output()
        .expect("run faultline bench kv");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn reads_percent_splits_gets_and_puts() {
    for mode in ["read-index", "lease"] {
        let (code, out, err) = bench(&[
            "--nodes",
            "3",
            "--clients",
            "4",
            "--duration",
            "1",
            "--reads",
            "90",
            "--read-mode",
            mode,
            "--json",
        ]);
        assert_eq!(code, 0, "{out}{err}");
        println!("{mode}: {out}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
        let (ops, gets, puts) = (
            v["ops"].as_u64().unwrap(),
            v["gets"]["ops"].as_u64().unwrap(),
            v["puts"]["ops"].as_u64().unwrap(),
        );
        assert_eq!(v["read_pct"], 90);
        assert!(ops > 0, "{out}");
        assert_eq!(ops, gets + puts, "{out}");
        // 90 % Gets drawn from a seeded stream: far more Gets than Puts.
        assert!(gets > 3 * puts, "{out}");
        assert!(v["gets"]["p50_ms"].as_f64().unwrap() > 0.0, "{out}");
    }
}

#[test]
fn reads_above_100_is_refused() {
    let (code, out, err) = bench(&["--reads", "101"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--reads"), "{err}");
}
