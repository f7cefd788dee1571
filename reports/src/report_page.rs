//! The per-run `index.html`: gathers a [`RunData`] into the template's
//! context (verdict, options, counts, checkers, counterexamples, plots,
//! faults, embedded timeline and log data) and renders `report.html`.

use std::collections::BTreeMap;

use minijinja::context;
use serde::Serialize;

use crate::counterexample::{CounterexampleView, counterexample_view};
use crate::error::Result;
use crate::ops::Outcome;
use crate::page_data::{TimelineInput, bounded_logs, bounded_timeline};
use crate::page_notes::{logs_note, timeline_note};
use crate::palette::{f_colour, hex};
use crate::plots::{LATENCY_QUANTILES, LATENCY_RAW, RATE};
use crate::results::CheckerView;
use crate::run_data::RunData;
use crate::templates::{self, trusted};
use crate::timeline_thinning::Focus;
use crate::timestamps::{display, display_duration};

#[derive(Serialize)]
struct CountRow {
    f: String,
    color: String,
    ok: usize,
    fail: usize,
    info: usize,
    total: usize,
}

#[derive(Serialize)]
struct FaultKindRow {
    kind: String,
    color: String,
    count: usize,
    total: String,
}

#[derive(Serialize)]
struct FaultRow {
    kind: String,
    color: String,
    start_s: String,
    end_s: String,
    start_ms: f64,
    end_ms: f64,
    duration: String,
    detail: String,
    healed: bool,
}

#[derive(Serialize)]
struct CheckerRow {
    name: String,
    verdict: &'static str,
    message: Option<String>,
    json: String,
}

#[derive(Serialize)]
struct CounterexampleBlock {
    checker: String,
    view: CounterexampleView,
}

#[derive(Serialize)]
struct Plot {
    file: &'static str,
    title: &'static str,
}

/// Renders the report page of `run` to HTML.
pub fn render_report(run: &RunData) -> Result<String> {
    let counts = count_rows(run);
    let totals = CountRow {
        f: "all".to_string(),
        color: String::new(),
        ok: counts.iter().map(|r| r.ok).sum(),
        fail: counts.iter().map(|r| r.fail).sum(),
        info: counts.iter().map(|r| r.info).sum(),
        total: counts.iter().map(|r| r.total).sum(),
    };
    let checkers: Vec<CheckerRow> = run.results.checkers.iter().map(checker_row).collect();
    let counterexamples: Vec<CounterexampleBlock> = run
        .results
        .checkers
        .iter()
        .filter_map(|c| {
            c.counterexample.as_ref().map(|ce| CounterexampleBlock {
                checker: c.name.clone(),
                view: counterexample_view(ce, &run.ops),
            })
        })
        .collect();
    let focus = Focus::of(counterexamples.iter().map(|c| &c.view));
    let timeline = bounded_timeline(
        &run.ops,
        &focus,
        &TimelineInput {
            faults: &run.faults,
            fault_kinds: &run.fault_kinds,
            fault_colours: &run.fault_colours,
            fs: &run.fs,
            end_ns: run.end_ns,
            workers: run.test.concurrency(),
        },
    );
    // The moments the embedded logs centre on (ms since the run began).
    let moments: Vec<f64> = [0.0, run.end_ns as f64 / 1e6]
        .into_iter()
        .chain(
            run.faults
                .iter()
                .flat_map(|f| [f.start_ns as f64 / 1e6, f.end_ns as f64 / 1e6]),
        )
        .chain(focus.moments_ms())
        .collect();
    let logs = bounded_logs(&run.logs, run.test.start, &moments);
    let duration_s = match (run.test.start, run.test.end) {
        (Some(s), Some(e)) if e >= s => (e - s).num_milliseconds() as f64 / 1000.0,
        _ => run.end_ns as f64 / 1e9,
    };
    let verdict = run.results.verdict.as_str();
    let test_name = run.test_name();
    templates::render(
        templates::REPORT,
        context! {
            title => format!("{test_name}: {verdict}"),
            test_name,
            run_name => run.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            verdict,
            started => run.test.start.as_ref().map(display),
            duration => display_duration(duration_s),
            seed => run.test.seed.clone(),
            options => run.test.options.clone(),
            counts,
            totals,
            recorded_ops => run.results.ops.map(|(ok, fail, info)| context! { ok, fail, info }),
            throughput => run.results.throughput.map(|t| format!("{t:.1}")),
            p50 => run.results.latency_p50_ms.map(|t| format!("{t:.2}")),
            p99 => run.results.latency_p99_ms.map(|t| format!("{t:.2}")),
            nemesis_counts => run.results.nemesis.clone(),
            fault_kinds => fault_kind_rows(run),
            faults => fault_rows(run),
            checkers,
            counterexamples,
            plots => vec![
                Plot { file: LATENCY_RAW, title: "Latency of every operation" },
                Plot { file: LATENCY_QUANTILES, title: "Latency quantiles" },
                Plot { file: RATE, title: "Throughput" },
            ],
            workers => run.test.concurrency(),
            process_count => run.ops.iter().map(|o| o.process).collect::<std::collections::BTreeSet<_>>().len(),
            op_count => run.ops.len(),
            timeline_ops => timeline.selection.kept.len(),
            timeline_note => timeline_note(&timeline.selection, timeline.cut),
            logs_note => logs_note(&logs.selection, logs.cut),
            event_count => run.events.len(),
            nodes => run.logs.nodes.clone(),
            log_line_count => run.logs.lines.len(),
            timeline_json => trusted(timeline.json),
            logs_json => trusted(logs.json),
            css => trusted(templates::CSS),
            errors_js => trusted(templates::ERRORS_JS),
            js => trusted(templates::REPORT_JS),
        },
    )
}

fn count_rows(run: &RunData) -> Vec<CountRow> {
    let mut by_f: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for op in &run.ops {
        by_f.entry(op.f.as_str()).or_default()[op.outcome.code() as usize] += 1;
    }
    run.fs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let c = by_f.get(f.as_str()).copied().unwrap_or_default();
            CountRow {
                f: f.clone(),
                color: hex(f_colour(i)),
                ok: c[Outcome::Ok.code() as usize],
                fail: c[Outcome::Fail.code() as usize],
                info: c[Outcome::Info.code() as usize],
                total: c.iter().sum(),
            }
        })
        .collect()
}

fn checker_row(c: &CheckerView) -> CheckerRow {
    CheckerRow {
        name: c.name.clone(),
        verdict: c.verdict.as_str(),
        message: c.message.clone(),
        json: c.json.clone(),
    }
}

fn fault_kind_rows(run: &RunData) -> Vec<FaultKindRow> {
    run.fault_kinds
        .iter()
        .map(|kind| {
            let mine = run.faults.iter().filter(|f| &f.kind == kind);
            let total_ns: u64 = mine.clone().map(|f| f.end_ns - f.start_ns).sum();
            FaultKindRow {
                kind: kind.clone(),
                color: hex(run.fault_colours.of(kind)),
                count: mine.count(),
                total: display_duration(total_ns as f64 / 1e9),
            }
        })
        .collect()
}

fn fault_rows(run: &RunData) -> Vec<FaultRow> {
    run.faults
        .iter()
        .map(|f| FaultRow {
            kind: f.kind.clone(),
            color: hex(run.fault_colours.of(&f.kind)),
            start_s: format!("{:.3}", f.start_ns as f64 / 1e9),
            end_s: format!("{:.3}", f.end_ns as f64 / 1e9),
            start_ms: f.start_ns as f64 / 1e6,
            end_ms: f.end_ns as f64 / 1e6,
            duration: display_duration((f.end_ns - f.start_ns) as f64 / 1e9),
            detail: f.detail.clone(),
            healed: f.healed,
        })
        .collect()
}
