//! Shared by the `report_*` end-to-end tests: writes a realistic synthetic
//! run folder in the store layout of DESIGN.md (test.json, history.jsonl
//! with client and nemesis events, an invalid results.json with a
//! counterexample, two node logs) and runs the built `faultline` binary.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Name of the synthetic run folder (a store stamp).
pub const STAMP: &str = "20240501T120000";
/// Name of the synthetic test.
pub const TEST: &str = "register-kill";

/// A small deterministic generator (64-bit LCG), so the tests need no RNG crate.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg(seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407))
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One generated client operation.
#[derive(Clone, Debug)]
pub struct GenOp {
    pub process: u64,
    pub f: &'static str,
    pub key: String,
    pub value: String,
    pub outcome: &'static str,
    pub start: u64,
    pub end: u64,
    pub node: String,
    pub invoke_index: u64,
    pub complete_index: u64,
}

/// What `write_run` produced.
pub struct Run {
    pub store: PathBuf,
    pub dir: PathBuf,
    pub ops: Vec<GenOp>,
    pub events: usize,
    pub end_ns: u64,
}

/// RFC 3339 time of `ns` after 2024-05-01T12:00:00Z (runs shorter than 1 h).
pub fn wall(ns: u64) -> String {
    let us = ns / 1_000;
    let secs = us / 1_000_000;
    format!(
        "2024-05-01T12:{:02}:{:02}.{:06}Z",
        secs / 60,
        secs % 60,
        us % 1_000_000
    )
}

/// Writes `<root>/store/register-kill/20240501T120000/` with `n_ops`
/// operations over `processes` concurrent processes.
pub fn write_run(root: &Path, n_ops: usize, processes: u64) -> Run {
    let store = root.join("store");
    let dir = store.join(TEST).join(STAMP);
    std::fs::create_dir_all(dir.join("nodes/n1")).unwrap();
    std::fs::create_dir_all(dir.join("nodes/n2")).unwrap();
    let mut rng = Lcg::new(7);

    // Client operations: each process runs ops back to back with a think time.
    let per_process = n_ops.div_ceil(processes as usize);
    let mut ops: Vec<GenOp> = Vec::with_capacity(n_ops);
    for lane in 0..processes {
        let mut process = lane;
        let mut t = 1_000_000 + rng.below(50_000_000);
        for _ in 0..per_process {
            if ops.len() >= n_ops {
                break;
            }
            let f = ["get", "put", "cas"][rng.below(3) as usize];
            let key = format!("k{}", rng.below(5));
            let value = match f {
                "get" => "null".to_string(),
                "put" => rng.below(10).to_string(),
                _ => format!("[{},{}]", rng.below(10), rng.below(10)),
            };
            let roll = rng.below(100);
            let outcome = if roll < 85 {
                "ok"
            } else if roll < 95 {
                "fail"
            } else {
                "info"
            };
            let latency = if rng.below(20) == 0 {
                80_000_000 + rng.below(300_000_000)
            } else {
                500_000 + rng.below(15_000_000)
            };
            ops.push(GenOp {
                process,
                f,
                key,
                value,
                outcome,
                start: t,
                end: t + latency,
                node: format!("n{}", 1 + rng.below(2)),
                invoke_index: 0,
                complete_index: 0,
            });
            t += latency + 1_000 + rng.below(200_000_000);
            if outcome == "info" {
                // Jepsen's convention: the worker continues as a new process.
                process += processes;
            }
        }
    }
    let end_ns = ops.iter().map(|o| o.end).max().unwrap_or(0) + 50_000_000;

    // Events: (time, order, json-without-index), sorted by time.
    let mut events: Vec<(u64, usize, String)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let invoke_value = if op.f == "get" {
            "null".to_string()
        } else {
            op.value.clone()
        };
        events.push((
            op.start,
            i * 2,
            format!(
                r#""time":{},"process":{},"type":"invoke","f":"{}","key":"{}","value":{}"#,
                op.start, op.process, op.f, op.key, invoke_value
            ),
        ));
        let done_value = if op.f == "get" && op.outcome == "ok" {
            rng.below(10).to_string()
        } else {
            invoke_value
        };
        let error = if op.outcome == "fail" {
            r#","error":"not leader <b>n2</b>""#
        } else if op.outcome == "info" {
            r#","error":"timeout""#
        } else {
            ""
        };
        events.push((op.end, i * 2 + 1, format!(
            r#""time":{},"process":{},"type":"{}","f":"{}","key":"{}","value":{},"node":"{}"{}"#,
            op.end, op.process, op.outcome, op.f, op.key, done_value, op.node, error
        )));
    }
    let at = |fraction: f64| (end_ns as f64 * fraction) as u64;
    let nemesis = [
        (at(0.15), "start-kill", r#"["n1"]"#),
        (at(0.30), "stop-kill", r#"["n1"]"#),
        (
            at(0.45),
            "start-partition",
            r#"{"grudge":"majorities-ring"}"#,
        ),
        (at(0.62), "stop-partition", "null"),
        (at(0.80), "start-pause", r#"["n2"]"#),
    ];
    for (k, (time, f, value)) in nemesis.iter().enumerate() {
        events.push((
            *time,
            usize::MAX - 10 + k,
            format!(
                r#""time":{time},"process":"nemesis","type":"invoke","f":"{f}","value":{value}"#
            ),
        ));
        let done = time + 2_000_000;
        events.push((
            done,
            usize::MAX - 20 + k,
            format!(r#""time":{done},"process":"nemesis","type":"info","f":"{f}","value":{value}"#),
        ));
    }
    events.sort_by_key(|(t, order, _)| (*t, *order));
    let mut history = String::new();
    for (index, (_, order, body)) in events.iter().enumerate() {
        if *order < ops.len() * 2 {
            if order % 2 == 0 {
                ops[order / 2].invoke_index = index as u64;
            } else {
                ops[order / 2].complete_index = index as u64;
            }
        }
        writeln!(history, "{{\"index\":{index},{body}}}").unwrap();
    }
    std::fs::write(dir.join("history.jsonl"), history).unwrap();

    std::fs::write(
        dir.join("test.json"),
        format!(
            r#"{{"name":"{TEST}","seed":1234,"start":"{}","end":"{}","options":{{"db":"faultline","workload":"register","nemesis":["kill","partition","pause"],"concurrency":{processes},"time-limit":10,"note":"<script>alert(1)</script>"}},"versions":{{"faultline":"0.1.0"}}}}"#,
            wall(0),
            wall(end_ns)
        ),
    )
    .unwrap();

    // An invalid verdict with a counterexample in faultline-checker's shape,
    // built from real consecutive ops on one key.
    let on_key: Vec<&GenOp> = ops
        .iter()
        .filter(|o| o.key == "k1" && o.outcome == "ok")
        .collect();
    let mut by_start = on_key.clone();
    by_start.sort_by_key(|o| o.start);
    let op_json = |o: &GenOp| {
        let (input, output) = if o.f == "get" {
            ("null".to_string(), "7".to_string())
        } else {
            (o.value.clone(), "null".to_string())
        };
        format!(
            r#"{{"process":{},"f":"{}","key":"k1","input":{input},"output":{output},"outcome":"ok","call_index":{},"return_index":{},"call_line":{},"return_line":{},"call_time":{},"return_time":{}}}"#,
            o.process,
            o.f,
            o.invoke_index,
            o.complete_index,
            o.invoke_index + 1,
            o.complete_index + 1,
            o.start,
            o.end
        )
    };
    let steps: Vec<String> = by_start[..3]
        .iter()
        .enumerate()
        .map(|(i, o)| format!(r#"{{"op":{},"state":"{}"}}"#, op_json(o), i + 3))
        .collect();
    let failing = by_start[3];
    let concurrent: Vec<String> = by_start[4..6].iter().map(|o| op_json(o)).collect();
    let ok = ops.iter().filter(|o| o.outcome == "ok").count();
    let fail = ops.iter().filter(|o| o.outcome == "fail").count();
    let info = ops.len() - ok - fail;
    std::fs::write(
        dir.join("results.json"),
        format!(
            r#"{{"verdict":"invalid","ops":{{"ok":{ok},"fail":{fail},"info":{info}}},"nemesis":{{"kill":1,"partition":1,"pause":1}},
"checkers":{{"linearizable":{{"verdict":"invalid","message":"key k1 is not linearizable","counterexample":{{"key":"k1","message":"key k1: get k1 read a value no write produced","op":{},"last_linearized":null,"initial_state":"nil","linearization":[{}],"concurrent":[{}]}}}},
"stats":{{"verdict":"valid","summary":"ok/fail/info per function"}}}},"throughput":{:.1},"latency_ms":{{"p50":4.2,"p99":310.0}}}}"#,
            op_json(failing),
            steps.join(","),
            concurrent.join(","),
            ops.len() as f64 / (end_ns as f64 / 1e9),
        ),
    )
    .unwrap();

    // Two node logs, tracing fmt style, one line every ~40 ms per node.
    for node in ["n1", "n2"] {
        let mut log = String::new();
        let mut t = 0;
        let mut i = 0u64;
        while t < end_ns {
            let (level, msg) = match i % 17 {
                0 => (
                    "WARN",
                    format!(
                        "kvnode::raft: election timeout, becoming candidate term={}",
                        i / 17 + 1
                    ),
                ),
                5 => (
                    "ERROR",
                    "kvnode::rpc: connection to n3 refused <script>alert(2)</script>".to_string(),
                ),
                9 => (
                    "DEBUG",
                    format!(
                        "kvnode::storage: fsync wal segment=3 bytes={}",
                        4096 * (i % 7 + 1)
                    ),
                ),
                _ => (
                    "INFO",
                    format!("kvnode::kv: applied index={} term={}", i, i / 17 + 1),
                ),
            };
            writeln!(log, "{}  {level} {msg}", wall(t)).unwrap();
            if i % 50 == 49 {
                writeln!(log, "   at kvnode::rpc::serve (continuation line)").unwrap();
            }
            t += 20_000_000 + rng.below(40_000_000);
            i += 1;
        }
        std::fs::write(dir.join("nodes").join(node).join("node.log"), log).unwrap();
    }
    Run {
        store,
        dir,
        events: events.len(),
        ops,
        end_ns,
    }
}

/// Runs the built binary with `args`.
pub fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("the faultline binary runs")
}

/// The text of an embedded `<script type="application/json" id="...">`.
pub fn embedded_json(html: &str, id: &str) -> serde_json::Value {
    let open = format!(r#"<script type="application/json" id="{id}">"#);
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("no {id} in the page"))
        + open.len();
    let end = start + html[start..].find("</script>").expect("script closes");
    serde_json::from_str(&html[start..end]).unwrap_or_else(|e| panic!("{id} does not parse: {e}"))
}

/// A folder for a test's output that outlives the test (screenshots).
pub fn output_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report-tests")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One series of points of latency-raw.svg: its `<path class="points">`.
#[derive(Debug, Clone, PartialEq)]
pub struct PointPath {
    pub f: String,
    pub outcome: String,
    /// `data-drawn` and `data-ops`.
    pub drawn: usize,
    pub ops: usize,
    /// Markers actually in the path data (one subpath, `M`, each).
    pub markers: usize,
}

/// The point series of a latency-raw.svg.
pub fn point_paths(svg: &str) -> Vec<PointPath> {
    let attr = |tag: &str, name: &str| -> String {
        let key = format!(" {name}=\"");
        let start = tag
            .find(&key)
            .unwrap_or_else(|| panic!("no {name} in {tag:.200}"))
            + key.len();
        tag[start..start + tag[start..].find('"').unwrap()].to_string()
    };
    svg.match_indices("<path class=\"points\"")
        .map(|(at, _)| {
            let tag = &svg[at..at + svg[at..].find('>').unwrap()];
            PointPath {
                f: attr(tag, "data-f"),
                outcome: attr(tag, "data-outcome"),
                drawn: attr(tag, "data-drawn").parse().unwrap(),
                ops: attr(tag, "data-ops").parse().unwrap(),
                markers: attr(tag, "d").matches('M').count(),
            }
        })
        .collect()
}
