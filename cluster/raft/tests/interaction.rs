//! Data-driven interaction tests in the style of etcd-raft's `testdata`:
//! each `testdata/*.txt` file is a script of commands, each followed by
//! `----` and its expected output (ended by a blank line). Run with
//! `REWRITE=1` to regenerate the expected outputs (then review the diff: the
//! files are the spec).
//!
//! Commands:
//! - `add-nodes N [pre-vote=B] [check-quorum=B] [max-entries=N] [max-inflight=N] [election=N] [read-mode=lease|read-index] [drift=PCT] [bug=NAME]`
//! - `campaign ID`, `tick ID N`, `tick-all N` (each node N times, with
//!   `stabilize` after every round), `stabilize`
//! - `propose ID DATA`, `read-index ID CTX`
//! - `partition ID...` (those nodes vs the rest), `heal`
//! - `restart ID` (from its disk), `compact ID INDEX`
//! - `process-ready ID` (one Ready), `deliver ID` (its queued messages),
//!   `deliver-none` (drop every queued message)
//! - `status`, `log ID`
//! - `add-node ID` (a new node joining the group, configured like node 1:
//!   same initial peers, which do not include it), `conf-change ID add-voter|add-learner|remove NODE`
//!   (propose a membership change at node ID), `conf ID...` (the
//!   configuration of each node)

// The test harness (not the core) reads and rewrites its script files.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;

use common::{Cluster, fmt_entries};
use faultline_raft::{ConfChange, RaftBug};

fn run_command(c: &mut Option<Cluster>, line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| -> u64 {
        words
            .get(i)
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("`{line}`: argument {i} must be a number"))
    };
    if words[0] == "add-nodes" {
        let n = num(1);
        let opts: Vec<(String, String)> = words[2..]
            .iter()
            .map(|w| {
                let (k, v) = w.split_once('=').expect("option key=value");
                (k.to_string(), v.to_string())
            })
            .collect();
        *c = Some(Cluster::new(n, |cfg| {
            for (k, v) in &opts {
                match k.as_str() {
                    "pre-vote" => cfg.pre_vote = v == "true",
                    "check-quorum" => cfg.check_quorum = v == "true",
                    "max-entries" => cfg.max_entries_per_msg = v.parse().expect("number"),
                    "max-inflight" => cfg.max_inflight = v.parse().expect("number"),
                    "election" => cfg.election_tick = v.parse().expect("number"),
                    "read-mode" => cfg.read_mode = v.parse().expect("read mode"),
                    "drift" => cfg.max_clock_drift_pct = v.parse().expect("number"),
                    "bug" => {
                        cfg.bugs.insert(v.parse::<RaftBug>().expect("bug name"));
                    }
                    other => panic!("unknown option {other}"),
                }
            }
        }));
        return c.as_ref().expect("just built").status();
    }
    let c = c.as_mut().expect("add-nodes first");
    match words[0] {
        "campaign" => {
            c.node_mut(num(1)).campaign();
            String::new()
        }
        "tick" => {
            c.tick(num(1), num(2) as u32);
            String::new()
        }
        "tick-all" => {
            let mut out = String::new();
            let ids: Vec<u64> = c.nodes.keys().copied().collect();
            for _ in 0..num(1) {
                for id in &ids {
                    c.tick(*id, 1);
                }
                out += &c.stabilize();
            }
            out
        }
        "stabilize" => c.stabilize(),
        "process-ready" => {
            let mut out = String::new();
            if c.node(num(1)).has_ready() {
                c.handle_ready(num(1), &mut out);
            }
            out
        }
        "deliver" => {
            let mut out = String::new();
            c.deliver_to(num(1), &mut out);
            out
        }
        "propose" => match c.node_mut(num(1)).propose(words[2].as_bytes().to_vec()) {
            Ok(index) => format!("index {index}\n"),
            Err(e) => format!("error: {e}\n"),
        },
        "read-index" => match c.node_mut(num(1)).read_index(words[2].as_bytes().to_vec()) {
            Ok(()) => String::new(),
            Err(e) => format!("error: {e}\n"),
        },
        "partition" => {
            c.partition = Some(words[1..].iter().map(|w| w.parse().expect("id")).collect());
            String::new()
        }
        "heal" => {
            c.partition = None;
            String::new()
        }
        "deliver-none" => {
            let n = c.queue.len();
            c.queue.clear();
            format!("dropped {n} messages\n")
        }
        "restart" => {
            c.restart(num(1));
            c.status()
        }
        "compact" => match c.compact(num(1), num(2)) {
            Ok(()) => String::new(),
            Err(e) => format!("error: {e}\n"),
        },
        "status" => c.status(),
        "add-node" => {
            c.add_joining(num(1), 1);
            c.status()
        }
        "conf-change" => {
            let node = num(3);
            let change = match words[2] {
                "add-voter" => ConfChange::AddVoter(node),
                "add-learner" => ConfChange::AddLearner(node),
                "remove" => ConfChange::Remove(node),
                other => panic!("unknown change {other}"),
            };
            match c.node_mut(num(1)).propose_conf_change(change) {
                Ok(index) => format!("index {index}\n"),
                Err(e) => format!("error: {e}\n"),
            }
        }
        "conf" => {
            let mut out = String::new();
            for k in 1..words.len() {
                out += &format!("{}: {}\n", num(k), c.conf(num(k)));
            }
            out
        }
        "log" => {
            let n = c.node(num(1));
            format!(
                "snap=({},{}) entries: {}\n",
                n.snapshot().meta.index,
                n.snapshot().meta.term,
                fmt_entries(n.log_entries())
            )
        }
        other => panic!("unknown command {other}"),
    }
}

/// Run one script; returns the file rewritten with actual outputs.
fn run_file(text: &str) -> String {
    let mut out = String::new();
    let mut cluster = None;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim().is_empty() || line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
        assert_eq!(
            lines.next(),
            Some("----"),
            "command `{line}` must be followed by ----"
        );
        // Skip the old expected block (up to a blank line or the end).
        for l in lines.by_ref() {
            if l.is_empty() {
                break;
            }
        }
        let actual = run_command(&mut cluster, line);
        out.push_str("----\n");
        if actual.is_empty() {
            out.push_str("ok\n");
        } else {
            out.push_str(&actual);
        }
        out.push('\n');
    }
    out
}

/// A small line diff (longest common subsequence) for mismatch reports.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("  {}\n", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("+ {}\n", b[j]);
            j += 1;
        } else {
            out += &format!("- {}\n", a[i]);
            i += 1;
        }
    }
    out
}

fn check(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let actual = run_file(&text);
    if std::env::var_os("REWRITE").is_some() {
        std::fs::write(&path, &actual).expect("rewrite testdata");
        return;
    }
    if actual != text {
        panic!(
            "{name}: output differs (- expected, + actual; REWRITE=1 to accept):\n{}",
            diff(&text, &actual)
        );
    }
}

#[test]
fn elections() {
    check("elections.txt");
}

#[test]
fn replication() {
    check("replication.txt");
}

#[test]
fn snapshots() {
    check("snapshots.txt");
}

#[test]
fn reads() {
    check("reads.txt");
}

#[test]
fn leases() {
    check("leases.txt");
}

#[test]
fn membership() {
    check("membership.txt");
}
