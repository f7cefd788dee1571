//! Every history in `shared/testdata/porcupine/` gets the verdict listed in
//! its EXPECTED.tsv (kv files with the kv model, etcd logs with cas-register),
//! and invalid ones come with a counterexample.

mod support;

use faultline_checker::{CheckOptions, Format, ModelKind, Verdict, check, parse_file};

#[test]
fn every_porcupine_history_gets_its_expected_verdict() {
    let root = support::testdata().join("porcupine");
    let table = std::fs::read_to_string(root.join("EXPECTED.tsv")).expect("read EXPECTED.tsv");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, format, expected, ops) = (cols[0], cols[1], cols[2], cols[3]);
        let (fmt, model) = match format {
            "kv" => (Format::PorcupineKv, ModelKind::Kv),
            "etcd" => (Format::JepsenEtcd, ModelKind::CasRegister),
            other => panic!("unknown format {other} in EXPECTED.tsv"),
        };
        let path = root.join(file);
        let (history, detected) = parse_file(&path, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(detected, fmt, "{file}: format detection");
        assert_eq!(
            history.invocations().to_string(),
            ops,
            "{file}: operation count"
        );
        let result = check(&history, model, &CheckOptions::default()).unwrap();
        let want = if expected == "ok" {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        if result.verdict != want {
            failures.push(format!(
                "{file}: got {:?}, expected {want:?} ({:?})",
                result.verdict, result.reason
            ));
        }
        if want == Verdict::Invalid {
            let cx = result
                .counterexample
                .as_ref()
                .unwrap_or_else(|| panic!("{file}: no counterexample"));
            assert!(!cx.message.is_empty() && cx.op.is_some(), "{file}: {cx:?}");
        }
        checked += 1;
    }
    assert_eq!(checked, 56, "EXPECTED.tsv rows");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn porcupine_kv_histories_agree_when_partitions_are_all_checked() {
    let root = support::testdata().join("porcupine/kv");
    for (file, want) in [
        ("c10-ok.txt", Verdict::Valid),
        ("c10-bad.txt", Verdict::Invalid),
    ] {
        let (history, _) = parse_file(&root.join(file), None).unwrap();
        let opts = CheckOptions {
            all: true,
            ..Default::default()
        };
        let result = check(&history, ModelKind::Kv, &opts).unwrap();
        assert_eq!(result.verdict, want, "{file}");
        assert_eq!(result.partitions, 10);
        // --no-partition searches the joint state of all keys and must agree.
        let opts = CheckOptions {
            no_partition: true,
            ..Default::default()
        };
        let joint = check(&history, ModelKind::Kv, &opts).unwrap();
        assert_eq!(joint.verdict, want, "{file} without partitioning");
        assert_eq!(joint.partitions, 1);
    }
}

#[test]
fn an_etcd_counterexample_names_the_read_that_cannot_be_placed() {
    let path = support::testdata().join("porcupine/etcd/etcd_000.log");
    let (history, _) = parse_file(&path, None).unwrap();
    let result = check(&history, ModelKind::CasRegister, &CheckOptions::default()).unwrap();
    assert_eq!(result.verdict, Verdict::Invalid);
    let cx = result.counterexample.unwrap();
    let op = cx.op.clone().unwrap();
    assert!(op.call_line > 0);
    assert!(cx.message.contains("can't"), "{}", cx.message);
    assert_eq!(
        cx.last_linearized.as_ref(),
        cx.linearization.last().map(|s| &s.op)
    );
    let json = serde_json::to_value(&cx).unwrap();
    assert!(json["linearization"].is_array());
}
