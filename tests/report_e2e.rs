//! End to end: `faultline report RUN_DIR` on a synthetic run folder writes
//! every file of the store layout, and they parse; it exits with the run's
//! verdict (0 valid, 1 invalid, 2 unknown or interrupted); bad input exits 2
//! with a message naming the file.

mod report_support;

use std::path::Path;

use report_support::{STAMP, TEST, embedded_json, faultline, point_paths, write_run};

fn report(dir: &Path) -> std::process::Output {
    faultline(&["report", dir.to_str().unwrap()])
}

#[test]
fn report_writes_every_file_and_they_parse() {
    let root = tempfile::tempdir().unwrap();
    let run = write_run(root.path(), 400, 5);
    let out = report(&run.dir);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an invalid run exits 1; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("invalid run") && stdout.contains("400 operations"),
        "{stdout}"
    );

    // history.csv: a header and one row per event, nine columns each.
    let mut csv = csv::Reader::from_path(run.dir.join("history.csv")).unwrap();
    assert_eq!(
        csv.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "index", "time", "process", "type", "f", "key", "value", "node", "error"
        ]
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), run.events);
    assert!(
        rows.iter()
            .any(|r| &r[2] == "nemesis" && &r[4] == "start-partition")
    );
    assert!(rows.iter().any(|r| &r[8] == "not leader <b>n2</b>"));

    // Plots: SVG documents with one legend entry per fault kind.
    for plot in ["latency-raw.svg", "latency-quantiles.svg", "rate.svg"] {
        let svg = std::fs::read_to_string(run.dir.join(plot)).unwrap();
        assert!(
            svg.trim_start().starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{plot}"
        );
        for kind in ["kill", "partition", "pause"] {
            assert!(
                svg.contains(&format!(">{kind}<")) || svg.contains(&format!(">\n{kind}\n<")),
                "{plot} has no legend for {kind}"
            );
        }
    }
    // latency-raw.svg: one marker per completed op (all 400 complete),
    // none thinned at this size.
    let raw = std::fs::read_to_string(run.dir.join("latency-raw.svg")).unwrap();
    let series = point_paths(&raw);
    assert_eq!(series.iter().map(|s| s.markers).sum::<usize>(), 400);
    assert!(
        series
            .iter()
            .all(|s| s.markers == s.drawn && s.drawn == s.ops)
    );
    for outcome in ["ok", "fail", "info"] {
        let want = run.ops.iter().filter(|o| o.outcome == outcome).count();
        let got: usize = series
            .iter()
            .filter(|s| s.outcome == outcome)
            .map(|s| s.markers)
            .sum();
        assert_eq!(got, want, "{outcome} points");
    }
    assert!(!raw.contains("thinned"));

    // index.html: verdict, counterexample, embedded data that parses.
    let html = std::fs::read_to_string(run.dir.join("index.html")).unwrap();
    assert!(html.contains("verdict-invalid") && html.contains("INVALID"));
    assert!(html.contains("Counterexample from linearizable"));
    assert!(html.contains("get k1 read a value no write produced"));
    assert!(html.contains("ce-failing") && html.contains("initial state"));
    assert!(html.contains(r#"<img src="latency-raw.svg""#));
    assert!(!html.contains("<script>alert"), "user text must be escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    for attr in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(attr), "the report must not load {attr}");
    }
    let timeline = embedded_json(&html, "timeline-data");
    let stride = timeline["stride"].as_u64().unwrap() as usize;
    assert_eq!(timeline["ops"].as_array().unwrap().len(), 400 * stride);
    assert_eq!(timeline["total"], 400);
    assert!(!html.contains("id=\"timeline-note\"") && !html.contains("id=\"logs-note\""));
    assert_eq!(timeline["faults"].as_array().unwrap().len(), 3);
    let pause = &timeline["faults"][2];
    assert_eq!(
        pause["healed"], false,
        "the unmatched start-pause runs to the end"
    );
    let logs = embedded_json(&html, "logs-data");
    assert_eq!(logs["nodes"], serde_json::json!(["n1", "n2"]));
    let times: Vec<f64> = logs["t"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "logs merged by time"
    );
    assert!(times[0] >= 0.0 && *times.last().unwrap() <= run.end_ns as f64 / 1e6);

    // The store index lists the run and `latest` points at it.
    let index = std::fs::read_to_string(run.store.join("index.html")).unwrap();
    assert!(index.contains(TEST) && index.contains(STAMP) && index.contains("invalid"));
    assert_eq!(
        std::fs::read_link(run.store.join("latest")).unwrap(),
        Path::new(&format!("{TEST}/{STAMP}"))
    );

    // Running it again rebuilds the same files.
    let again = report(&run.dir);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(run.dir.join("history.csv"))
            .unwrap()
            .lines()
            .count(),
        run.events + 1
    );
}

#[test]
fn missing_or_malformed_files_exit_2_naming_the_file() {
    let root = tempfile::tempdir().unwrap();
    let run = write_run(root.path(), 60, 3);

    std::fs::remove_file(run.dir.join("results.json")).unwrap();
    let out = report(&run.dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("results.json") && err.contains("No such file"),
        "{err}"
    );

    std::fs::write(run.dir.join("results.json"), r#"{"ops":{}}"#).unwrap();
    let err = String::from_utf8_lossy(&report(&run.dir).stderr).into_owned();
    assert!(
        err.contains("results.json") && err.contains("verdict"),
        "{err}"
    );

    std::fs::write(run.dir.join("results.json"), r#"{"verdict":"valid"}"#).unwrap();
    let mut history = std::fs::read_to_string(run.dir.join("history.jsonl")).unwrap();
    history.push_str("{\"time\": oops}\n");
    let lines = history.lines().count();
    std::fs::write(run.dir.join("history.jsonl"), history).unwrap();
    let out = report(&run.dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("history.jsonl:{lines}")), "{err}");

    let out = report(&root.path().join("no-such-run"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-run"));
}

#[test]
fn exit_code_follows_the_verdict() {
    let root = tempfile::tempdir().unwrap();
    let run = write_run(root.path(), 40, 2);
    for (results, code) in [
        (r#"{"verdict":"valid"}"#, 0),
        (r#"{"verdict":"valid","interrupted":true}"#, 2),
        (r#"{"verdict":"unknown"}"#, 2),
        (r#"{"verdict":"invalid","interrupted":true}"#, 1),
    ] {
        std::fs::write(run.dir.join("results.json"), results).unwrap();
        let out = report(&run.dir);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{results}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(run.dir.join("index.html").is_file());
    }
    let help = faultline(&["report", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Exit codes: 0 the run is valid, 1 invalid"),
        "{help}"
    );
}

#[test]
fn a_run_outside_a_store_gets_its_report_but_no_store_index() {
    let root = tempfile::tempdir().unwrap();
    let run = write_run(root.path(), 40, 2);
    let loose = root.path().join("loose-run");
    std::fs::rename(&run.dir, &loose).unwrap();
    let out = report(&loose);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(loose.join("index.html").is_file());
    assert!(String::from_utf8_lossy(&out.stdout).contains("not rebuilt"));
    assert!(!root.path().join("index.html").exists());
}
