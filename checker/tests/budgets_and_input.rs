//! Budgets end in Unknown with the reason (never Valid by assumption);
//! malformed input gives an error naming the file, the line and what was
//! expected; every format parses; generated histories are valid.

mod support;

use std::time::Duration;

use faultline_checker::generate::{Shape, cas_register_history};
use faultline_checker::{
    CheckOptions, EventType, Format, Func, History, ModelKind, Process, Value, Verdict, check,
    parse_file, parse_str,
};
use support::{ev, history};

/// `n` fully concurrent writes of distinct values, then a read of a value
/// never written: invalid, but only after trying every subset and order.
fn hard_history(n: u64) -> History {
    let mut events: Vec<_> = (0..n)
        .map(|p| ev(p, EventType::Invoke, Func::Put, None, Value::Int(p as i64)))
        .collect();
    events.extend((0..n).map(|p| ev(p, EventType::Ok, Func::Put, None, Value::Int(p as i64))));
    events.push(ev(n, EventType::Invoke, Func::Get, None, Value::Null));
    events.push(ev(n, EventType::Ok, Func::Get, None, Value::Int(-1)));
    history(events)
}

#[test]
fn a_small_time_budget_on_a_hard_history_is_unknown_with_the_reason() {
    let opts = CheckOptions {
        timeout: Some(Duration::from_millis(5)),
        ..Default::default()
    };
    let r = check(&hard_history(26), ModelKind::Register, &opts).unwrap();
    assert_eq!(r.verdict, Verdict::Unknown);
    let reason = r.reason.unwrap();
    assert!(
        reason.contains("time budget of 0.005 s ran out"),
        "{reason}"
    );
    assert!(r.counterexample.is_none());
}

#[test]
fn a_memory_cap_is_unknown_with_the_reason() {
    let opts = CheckOptions {
        max_memory: 1 << 20,
        ..Default::default()
    };
    let r = check(&hard_history(26), ModelKind::Register, &opts).unwrap();
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(r.reason.unwrap().contains("memory cap of 1 MB"));
}

#[test]
fn the_hard_history_is_decided_when_small() {
    let r = check(
        &hard_history(8),
        ModelKind::Register,
        &CheckOptions::default(),
    )
    .unwrap();
    assert_eq!(r.verdict, Verdict::Invalid);
    let cx = r.counterexample.unwrap();
    assert_eq!(
        cx.linearization.len(),
        8,
        "all writes linearize before the read fails"
    );
    assert!(
        cx.message
            .starts_with("can't read -1 from register holding"),
        "{}",
        cx.message
    );
}

#[test]
fn malformed_lines_name_file_line_and_expectation() {
    let cases = [
        (
            Format::Jsonl,
            "{\"process\":0,\"type\":\"invoke\",\"f\":\"get\"}\n{\"process\":0,\"type\":\"okay\",\"f\":\"get\"}\n",
            2,
            "invoke, ok, fail or info",
        ),
        (
            Format::Jsonl,
            "{\"process\":0,\"type\":\"invoke\",\"f\":\"get\"}\nnot json\n",
            2,
            "a JSON object",
        ),
        (
            Format::PorcupineKv,
            "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0, :type :ok, :f :get, :key \"1\", :value \"\"\n",
            2,
            "'}'",
        ),
        (
            Format::JepsenEtcd,
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - x\t:ok\t:read\tnil\n",
            2,
            "a process number",
        ),
        (
            Format::JepsenEdn,
            "{:process 0, :type :invoke, :f :read}\n{:process 0 :type :done :f :read}\n",
            2,
            ":type :invoke",
        ),
    ];
    for (format, text, line, expected) in cases {
        let err = parse_str(text, "h.txt", Some(format))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("h.txt:{line}: expected ")),
            "{format}: {err}"
        );
        assert!(err.contains(expected), "{format}: {err}");
    }
}

#[test]
fn formats_are_detected_and_parsed() {
    let jsonl = "{\"index\":0,\"time\":5,\"process\":3,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k7\",\"value\":[1,2]}\n\
                 {\"index\":1,\"time\":9,\"process\":\"nemesis\",\"type\":\"invoke\",\"f\":\"start-partition\",\"value\":{\"grudge\":\"ring\"}}\n\
                 {\"index\":2,\"time\":12,\"process\":3,\"type\":\"fail\",\"f\":\"cas\",\"key\":\"k7\",\"value\":[1,2],\"node\":\"n1\",\"error\":\"nope\"}\n";
    let (h, f) = parse_str(jsonl, "h.jsonl", None).unwrap();
    assert_eq!(f, Format::Jsonl);
    assert_eq!(h.events.len(), 3);
    assert_eq!(h.events[1].process, Process::Nemesis);
    assert_eq!(h.events[2].node.as_deref(), Some("n1"));
    assert_eq!(
        check(&h, ModelKind::CasRegister, &CheckOptions::default())
            .unwrap()
            .verdict,
        Verdict::Valid
    );

    // Jepsen history.edn with independent [k v] tuples, one vector of maps.
    let edn = "[{:type :invoke, :f :write, :value [5 1], :process 0, :time 10, :index 0}\n\
                {:type :ok, :f :write, :value [5 1], :process 0, :time 20, :index 1}\n\
                {:type :info, :f :start, :value nil, :process :nemesis, :time 25}\n\
                {:type :invoke, :f :cas, :value [5 [1 2]], :process 1, :time 30}\n\
                {:type :ok, :f :cas, :value [5 [1 2]], :process 1, :time 40}\n\
                {:type :invoke, :f :read, :value [5 nil], :process 0, :time 50}\n\
                {:type :ok, :f :read, :value [5 1], :process 0, :time 60}]";
    let (h, f) = parse_str(edn, "history.edn", None).unwrap();
    assert_eq!(f, Format::JepsenEdn);
    assert_eq!(h.events[0].key.as_deref(), Some("5"));
    assert_eq!(
        h.events[4].value,
        Value::List(vec![1.into(), 2.into()].into())
    );
    let r = check(&h, ModelKind::CasRegister, &CheckOptions::default()).unwrap();
    assert_eq!(
        r.verdict,
        Verdict::Invalid,
        "read 1 after cas 1->2 completed"
    );
    assert!(
        r.counterexample
            .unwrap()
            .message
            .contains("can't read 1 from register holding 2")
    );
}

#[test]
fn testdata_files_parse_with_auto_detection() {
    let dir = support::testdata().join("porcupine");
    let (_, f) = parse_file(&dir.join("etcd/etcd_000.log"), None).unwrap();
    assert_eq!(f, Format::JepsenEtcd);
    let (_, f) = parse_file(&dir.join("kv/c01-ok.txt"), None).unwrap();
    assert_eq!(f, Format::PorcupineKv);
    let err = parse_file(&dir.join("missing.txt"), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.txt"), "{err}");
}

#[test]
fn generated_histories_are_valid_and_shaped_as_asked() {
    for seed in 0..20 {
        let shape = Shape {
            ops: 2000,
            keys: 5,
            procs: 12,
            info_rate: 0.05,
            values: 3,
            seed,
        };
        let h = cas_register_history(&shape);
        assert_eq!(h.invocations(), 2000);
        let r = check(&h, ModelKind::CasRegister, &CheckOptions::default()).unwrap();
        assert_eq!(
            r.verdict,
            Verdict::Valid,
            "seed {seed}: {:?}",
            r.counterexample
        );
        assert_eq!(r.partitions, 5);
        assert!(
            r.info > 0 && r.failed > 0,
            "info {} failed {}",
            r.info,
            r.failed
        );
    }
}
