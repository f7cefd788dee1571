//! Nemesis intervals: the `start-X` / `stop-X` events of the nemesis turned
//! into [`FaultInterval`]s, the spans that plots shade and timelines draw.

use std::collections::HashMap;

use crate::history::{EventType, HistoryEvent, Process, value_text};

/// A span of time during which one kind of fault was active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultInterval {
    /// The fault kind: `kill` for `start-kill`/`stop-kill`, or the whole `f`
    /// for nemesis actions that are not start/stop pairs.
    pub kind: String,
    pub start_ns: u64,
    pub end_ns: u64,
    /// The value of the starting event (e.g. the grudge of a partition).
    pub detail: String,
    /// False when no stop was recorded and the interval runs to the end.
    pub healed: bool,
}

enum KindState {
    Open(usize),
    /// Closed by a stop; further stop events (e.g. the stop's completion)
    /// extend it.
    Closed(usize),
}

/// Builds the fault intervals of a history, sorted by start time.
///
/// `start-X` opens an interval of kind `X` (repeated starts while open are
/// the same fault, e.g. its completion event) and `stop-X` closes it; the
/// completion of a stop extends the end. A start that is never stopped ends
/// at `run_end_ns` and is marked unhealed; a stop with nothing open is
/// ignored. Any other nemesis action `f` becomes an interval of kind `f`
/// from its invocation to its completion.
pub fn fault_intervals(events: &[HistoryEvent], run_end_ns: u64) -> Vec<FaultInterval> {
    let mut intervals: Vec<FaultInterval> = Vec::new();
    let mut state: HashMap<String, KindState> = HashMap::new();
    for event in events.iter().filter(|e| e.process == Process::Nemesis) {
        let t = event.time_ns;
        let detail = if event.value.is_null() {
            String::new()
        } else {
            value_text(event.value.clone())
        };
        let (kind, starts) = if let Some(kind) = event.f.strip_prefix("start-") {
            (kind, true)
        } else if let Some(kind) = event.f.strip_prefix("stop-") {
            (kind, false)
        } else {
            // A one-shot action: open on invoke, close on completion.
            (event.f.as_str(), event.kind == EventType::Invoke)
        };
        match (state.get(kind), starts) {
            (Some(KindState::Open(at)), true) => {
                let interval = &mut intervals[*at];
                if interval.detail.is_empty() {
                    interval.detail = detail;
                }
            }
            (None | Some(KindState::Closed(_)), true) => {
                state.insert(kind.to_string(), KindState::Open(intervals.len()));
                intervals.push(FaultInterval {
                    kind: kind.to_string(),
                    start_ns: t,
                    end_ns: t,
                    detail,
                    healed: false,
                });
            }
            (Some(KindState::Open(at)), false) => {
                let at = *at;
                intervals[at].end_ns = t.max(intervals[at].start_ns);
                intervals[at].healed = true;
                state.insert(kind.to_string(), KindState::Closed(at));
            }
            (Some(KindState::Closed(at)), false) => {
                let interval = &mut intervals[*at];
                interval.end_ns = interval.end_ns.max(t);
            }
            (None, false) => {
                tracing::debug!(f = %event.f, time = t, "nemesis stop with no open fault; ignored");
            }
        }
    }
    for (kind, s) in &state {
        if let KindState::Open(at) = s {
            let interval = &mut intervals[*at];
            interval.end_ns = run_end_ns.max(interval.start_ns);
            tracing::debug!(%kind, "fault never stopped; runs to the end of the run");
        }
    }
    intervals.sort_by(|a, b| (a.start_ns, &a.kind).cmp(&(b.start_ns, &b.kind)));
    intervals
}

/// The distinct fault kinds, in order of first appearance.
pub fn fault_kinds(intervals: &[FaultInterval]) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for interval in intervals {
        if !kinds.contains(&interval.kind) {
            kinds.push(interval.kind.clone());
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_line;

    fn nemesis(time: u64, kind: &str, f: &str) -> HistoryEvent {
        parse_line(&format!(
            r#"{{"time":{time},"process":"nemesis","type":"{kind}","f":"{f}","value":{{"n":1}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn pairs_start_and_stop_with_their_completions() {
        let ev = vec![
            nemesis(100, "invoke", "start-partition"),
            nemesis(110, "info", "start-partition"),
            nemesis(500, "invoke", "stop-partition"),
            nemesis(520, "info", "stop-partition"),
            nemesis(700, "invoke", "start-partition"),
            nemesis(900, "invoke", "stop-partition"),
        ];
        let got = fault_intervals(&ev, 1000);
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].start_ns, got[0].end_ns, got[0].healed),
            (100, 520, true)
        );
        assert_eq!((got[1].start_ns, got[1].end_ns), (700, 900));
        assert_eq!(got[0].detail, r#"{"n":1}"#);
    }

    #[test]
    fn unmatched_start_runs_to_the_end_and_orphan_stop_is_ignored() {
        let ev = vec![
            nemesis(50, "invoke", "stop-pause"),
            nemesis(100, "invoke", "start-kill"),
            nemesis(200, "invoke", "start-pause"),
            nemesis(300, "invoke", "stop-pause"),
        ];
        let got = fault_intervals(&ev, 1000);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].kind, "kill");
        assert_eq!(
            (got[0].start_ns, got[0].end_ns, got[0].healed),
            (100, 1000, false)
        );
        assert_eq!((got[1].kind.as_str(), got[1].end_ns), ("pause", 300));
        assert_eq!(
            fault_kinds(&got),
            vec!["kill".to_string(), "pause".to_string()]
        );
    }

    #[test]
    fn overlapping_kinds_and_generic_actions() {
        let ev = vec![
            nemesis(10, "invoke", "start-kill"),
            nemesis(20, "invoke", "move-shard"),
            nemesis(30, "invoke", "start-clock"),
            nemesis(40, "ok", "move-shard"),
            nemesis(60, "invoke", "stop-kill"),
        ];
        let got = fault_intervals(&ev, 100);
        let summary: Vec<_> = got
            .iter()
            .map(|i| (i.kind.as_str(), i.start_ns, i.end_ns))
            .collect();
        assert_eq!(
            summary,
            vec![("kill", 10, 60), ("move-shard", 20, 40), ("clock", 30, 100)]
        );
    }
}
