//! A 150,000-operation run gets a report that stays light: latency-raw.svg
//! and index.html stay under fixed sizes, every fail and info point is
//! still drawn, the counterexample's operations stay on the timeline, and
//! the page says what it left out and where the full data is. Sizes are
//! asserted (they are not timings); the time to write the report is only
//! printed.
//!
//! Why the bounds hold: latency-raw.svg draws at most 40,000 ok points at
//! ≤ 11 bytes each (0.44 MB) plus every fail/info point at ≤ 22 bytes
//! (this run has ~22,500: 0.5 MB) plus the frame (~0.05 MB): < 1.5 MB.
//! index.html embeds ≤ 1 MiB of timeline data and ≤ 0.5 MiB of logs, plus
//! the page itself (~0.1 MB with this counterexample): < 2 MB.

mod report_support;

use std::time::Instant;

use report_support::{embedded_json, faultline, point_paths, write_run};

const RAW_SVG_LIMIT: u64 = 1_500_000;
const INDEX_HTML_LIMIT: u64 = 2_000_000;

#[test]
fn a_150k_operation_report_stays_light_and_keeps_what_matters() {
    let root = tempfile::tempdir().unwrap();
    let run = write_run(root.path(), 150_000, 40);
    let started = Instant::now();
    let out = faultline(&["report", run.dir.to_str().unwrap()]);
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(1), // the synthetic run is invalid
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = |name: &str| std::fs::metadata(run.dir.join(name)).unwrap().len();
    println!("report of 150,000 operations written in {took:?}");
    for name in [
        "history.jsonl",
        "history.csv",
        "index.html",
        "latency-raw.svg",
        "latency-quantiles.svg",
        "rate.svg",
    ] {
        println!("{name}: {} bytes", size(name));
    }
    assert!(
        size("latency-raw.svg") < RAW_SVG_LIMIT,
        "latency-raw.svg too big"
    );
    assert!(size("index.html") < INDEX_HTML_LIMIT, "index.html too big");

    // Every fail and info point is drawn; ok points are thinned to the
    // bound, and the plot says so.
    let raw = std::fs::read_to_string(run.dir.join("latency-raw.svg")).unwrap();
    let series = point_paths(&raw);
    assert!(series.iter().all(|s| s.markers == s.drawn));
    for outcome in ["fail", "info"] {
        let want = run.ops.iter().filter(|o| o.outcome == outcome).count();
        let drawn: usize = series
            .iter()
            .filter(|s| s.outcome == outcome)
            .map(|s| s.markers)
            .sum();
        assert_eq!(drawn, want, "every {outcome} point is drawn");
        assert!(want > 5_000, "the fixture has many {outcome} ops");
    }
    let ok_ops = run.ops.iter().filter(|o| o.outcome == "ok").count();
    let ok: Vec<_> = series.iter().filter(|s| s.outcome == "ok").collect();
    let ok_drawn: usize = ok.iter().map(|s| s.markers).sum();
    assert_eq!(ok.iter().map(|s| s.ops).sum::<usize>(), ok_ops);
    assert!(ok_drawn <= 40_000 && ok_drawn > 10_000, "{ok_drawn}");
    assert!(
        raw.contains(&format!("of {} drawn", thousands(ok_ops))),
        "the caption says how many ok points are drawn"
    );
    for s in &ok {
        assert!(
            raw.contains(&format!(
                "{} ok: {} of {} drawn",
                s.f,
                thousands(s.drawn),
                thousands(s.ops)
            )),
            "legend of {} ok",
            s.f
        );
    }

    // The timeline: bounded, the counterexample's operations kept, a note.
    let html = std::fs::read_to_string(run.dir.join("index.html")).unwrap();
    let timeline = embedded_json(&html, "timeline-data");
    let stride = timeline["stride"].as_u64().unwrap() as usize;
    let flat = timeline["ops"].as_array().unwrap();
    let shown = flat.len() / stride;
    assert_eq!(timeline["total"], 150_000);
    assert!(shown <= 20_000 && shown > 10_000, "{shown}");
    let indexes: Vec<u64> = flat
        .chunks(stride)
        .map(|op| op[7].as_u64().unwrap())
        .collect();
    let ce = embedded_counterexample_indexes(&run);
    assert!(!ce.is_empty());
    for index in ce {
        assert!(
            indexes.contains(&index),
            "counterexample op {index} on the timeline"
        );
    }
    assert!(
        html.contains(&format!(
            "the timeline holds {} of the run&#x27;s 150,000 operations",
            thousands(shown)
        )),
        "the page says how many operations the timeline holds"
    );
    assert!(html.contains(
        r#"<a href="history.jsonl">history.jsonl</a> and <a href="history.csv">history.csv</a>"#
    ));

    // The logs: bounded, every ERROR line kept, a note.
    let logs = embedded_json(&html, "logs-data");
    let lines = logs["x"].as_array().unwrap().len();
    let total = logs["total"].as_u64().unwrap() as usize;
    assert!(lines < total, "{lines} of {total}");
    let errors = logs["lv"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| **l == 4)
        .count();
    let log_text: String = ["n1", "n2"]
        .iter()
        .map(|n| std::fs::read_to_string(run.dir.join("nodes").join(n).join("node.log")).unwrap())
        .collect();
    assert_eq!(
        errors,
        log_text.matches(" ERROR ").count(),
        "every ERROR line"
    );
    assert!(html.contains(&format!(
        "it holds {} of the {} log lines",
        thousands(lines),
        thousands(total)
    )));
    assert!(html.contains(r#"<a href="nodes/n1/node.log">nodes/n1/node.log</a>"#));
}

/// History indexes of the operations in results.json's counterexample.
fn embedded_counterexample_indexes(run: &report_support::Run) -> Vec<u64> {
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.dir.join("results.json")).unwrap())
            .unwrap();
    let ce = &results["checkers"]["linearizable"]["counterexample"];
    let mut ops = vec![&ce["op"]];
    ops.extend(
        ce["linearization"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["op"]),
    );
    ops.extend(ce["concurrent"].as_array().unwrap());
    ops.iter()
        .map(|o| o["call_index"].as_u64().unwrap())
        .collect()
}

fn thousands(n: usize) -> String {
    faultline_reports::limits::thousands(n)
}
