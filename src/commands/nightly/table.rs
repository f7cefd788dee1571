//! The table `faultline nightly` prints at the end: one line per
//! configuration (runs, verdicts, mean ok ops/s, mean run duration, or why it
//! was skipped / not run), under a header line with the totals.

use faultline_reports::nightly::{NightlyConfig, NightlySummary};
use faultline_reports::timestamps::display_duration;

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn verdicts(config: &NightlyConfig) -> String {
    let mut parts: Vec<String> = Vec::new();
    for outcome in ["valid", "invalid", "unknown", "error"] {
        let n = config
            .runs
            .iter()
            .filter(|r| r.outcome.as_str() == outcome)
            .count();
        if n > 0 {
            parts.push(format!("{n} {outcome}"));
        }
    }
    parts.join(", ")
}

/// The whole table as text.
pub fn render(summary: &NightlySummary) -> String {
    let counts = summary.counts();
    let width = summary
        .configurations
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max("configuration".len());
    let mut out = format!(
        "nightly {}: {} configuration(s), {} run(s) in {}: {}{}\n",
        summary.stamp,
        summary.configurations.len(),
        counts.runs,
        display_duration(summary.duration_s),
        counts.text(),
        if summary.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    out += &format!(
        "  {:<width$}  {:>4}  {:<22} {:>9}  {:>9}\n",
        "configuration", "runs", "verdicts", "ok ops/s", "duration"
    );
    for c in &summary.configurations {
        if let Some(reason) = &c.skipped {
            out += &format!("  {:<width$}  {:>4}  skipped: {reason}\n", c.name, "-");
            continue;
        }
        if c.runs.is_empty() {
            out += &format!("  {:<width$}  {:>4}  not run\n", c.name, "-");
            continue;
        }
        let ops = mean(c.runs.iter().filter_map(|r| r.ops_per_s))
            .map_or("-".to_string(), |v| format!("{v:.0}"));
        let duration =
            mean(c.runs.iter().map(|r| r.duration_s)).map_or("-".to_string(), display_duration);
        out += &format!(
            "  {:<width$}  {:>4}  {:<22} {:>9}  {:>9}\n",
            c.name,
            c.runs.len(),
            verdicts(c),
            ops,
            duration
        );
        for r in c.runs.iter().filter(|r| r.error.is_some()) {
            out += &format!(
                "  {:<width$}        seed {}: {}\n",
                "",
                r.seed,
                r.error.as_deref().unwrap_or_default()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use faultline_reports::nightly::{NightlyOptions, NightlyRun, RunOutcome};

    use super::*;

    fn run(outcome: RunOutcome, ops: Option<f64>, error: Option<&str>) -> NightlyRun {
        NightlyRun {
            seed: 5,
            outcome,
            interrupted: false,
            run_dir: None,
            exit_code: Some(0),
            ops_per_s: ops,
            ops: None,
            duration_s: 20.0,
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn one_line_per_configuration() {
        let mut s = NightlySummary::new(
            chrono::Utc::now(),
            NightlyOptions {
                time_limit_s: 5,
                test_count: 2,
                seed: 1,
                bug: None,
                nemesis_interval_s: 5.0,
                check_timeout_s: None,
                no_netns: true,
                workloads: vec!["register".into()],
                nemesis: vec!["none".into(), "kill".into(), "partition".into()],
            },
        );
        let config = |name: &str, runs, skipped: Option<&str>| NightlyConfig {
            name: name.into(),
            workload: "register".into(),
            nemesis: name.into(),
            skipped: skipped.map(str::to_string),
            runs,
        };
        s.configurations = vec![
            config(
                "register-none",
                vec![
                    run(RunOutcome::Valid, Some(1000.0), None),
                    run(RunOutcome::Invalid, Some(500.0), None),
                ],
                None,
            ),
            config(
                "register-kill",
                vec![run(RunOutcome::Error, None, Some("no leader"))],
                None,
            ),
            config("register-partition", vec![], Some("loopback")),
            config("register-pause", vec![], None),
        ];
        s.duration_s = 61.0;
        let text = render(&s);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].contains("4 configuration(s), 3 run(s) in 61.0 s")
                && lines[0].contains("1 valid, 1 invalid, 1 error, 1 skipped"),
            "{text}"
        );
        assert!(lines[2].contains("register-none") && lines[2].contains("1 valid, 1 invalid"));
        assert!(
            lines[2].contains(" 750 ") && lines[2].contains("20.0 s"),
            "{text}"
        );
        assert!(
            lines[3].contains("1 error") && lines[3].contains(" - "),
            "{text}"
        );
        assert!(lines[4].contains("seed 5: no leader"), "{text}");
        assert!(lines[5].contains("skipped: loopback"));
        assert!(lines[6].contains("register-pause") && lines[6].contains("not run"));
    }
}
