//! Regression tests for inputs the fuzz targets (fuzz/, `scripts/fuzz.sh`)
//! found: each once crashed a parser and must now be a clear error naming
//! the file and line.

use faultline_checker::{Format, parse_str};

/// `[{:value ` repeated: the porcupine_kv target's input #4 of seed 1 (a
/// stack overflow that aborted `faultline check`).
#[test]
fn deeply_nested_edn_values_are_an_error_in_every_edn_based_format() {
    let bomb = "[{:value ".repeat(20_000);
    let cases = [
        (
            Format::PorcupineKv,
            format!(
                "{{:process 0, :type :invoke, :f :get, :key \"0\", :value nil}}\n{{:process 0, :type :ok, :f :get, :key \"0\", :value {bomb}"
            ),
        ),
        (
            Format::JepsenEdn,
            format!(
                "{{:process 0 :type :invoke :f :read :value nil}}\n{}",
                "(".repeat(50_000)
            ),
        ),
        (
            Format::JepsenEdn,
            format!(
                "{{:process 0 :type :invoke :f :read :value nil}}\n{}1",
                "#_ ".repeat(50_000)
            ),
        ),
        (
            Format::JepsenEtcd,
            format!(
                "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t{}",
                "[".repeat(50_000)
            ),
        ),
    ];
    for (format, text) in cases {
        let err = parse_str(&text, "h.txt", Some(format))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("h.txt:2: expected "), "{format}: {err}");
        if format != Format::JepsenEtcd {
            assert!(err.contains("nested at most 128 deep"), "{format}: {err}");
        }
        assert!(err.len() < 400, "{format}: the message stays short: {err}");
    }
}

#[test]
fn nesting_a_history_needs_still_parses() {
    let value = format!("{}1{}", "[".repeat(20), "]".repeat(20));
    let text = format!(
        "{{:process 0 :type :invoke :f :write :value {value}}}\n{{:process 0 :type :ok :f :write :value {value}}}\n"
    );
    let (h, _) = parse_str(&text, "h.edn", Some(Format::JepsenEdn)).unwrap();
    assert_eq!(h.events.len(), 2);
}

#[test]
fn deeply_nested_json_is_an_error() {
    let text = format!(
        "{{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"value\":{}}}\n",
        "[".repeat(100_000)
    );
    let err = parse_str(&text, "h.jsonl", Some(Format::Jsonl))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("h.jsonl:1: expected a JSON object"),
        "{err}"
    );
}
