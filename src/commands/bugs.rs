//! `faultline bugs`: lists every planted bug in the project, its layer, which
//! test or command catches it, the one command the bug matrix runs for it,
//! and how often that command caught it when last measured
//! (`bugs_measured.tsv`, written by `scripts/bug-matrix.sh -c -w`).

use anyhow::{Context, Result, bail};
use faultline_raft::BugInfo;
use serde::Serialize;

use crate::cli::BugsArgs;

use super::EXIT_VALID;

/// The bug matrix as last measured: one row per bug and command.
const MEASURED: &str = include_str!("bugs_measured.tsv");

/// How often a bug's matrix command caught it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Measured {
    /// Runs that ended invalid (exit 1).
    pub caught: u32,
    pub runs: u32,
    /// When and where (`YYYY-MM-DD`, the machine).
    pub date: String,
    pub machine: String,
}

/// A row of `faultline bugs --json`.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    info: BugInfo,
    /// `None` when the command was never measured (or changed since).
    measured: Option<Measured>,
}

/// Parse `bugs_measured.tsv`: `bug, caught, runs, date, machine, command`
/// per line after the header; `#` lines are comments.
fn parse_measured(text: &str) -> Result<Vec<(String, String, Measured)>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 6 {
            bail!(
                "bugs_measured.tsv line {}: {} fields, want 6 (bug, caught, runs, date, machine, command)",
                i + 1,
                f.len()
            );
        }
        let num = |s: &str| -> Result<u32> {
            s.parse()
                .with_context(|| format!("bugs_measured.tsv line {}: {s:?} is not a count", i + 1))
        };
        let measured = Measured {
            caught: num(f[1])?,
            runs: num(f[2])?,
            date: f[3].to_string(),
            machine: f[4].to_string(),
        };
        rows.push((f[0].to_string(), f[5].to_string(), measured));
    }
    Ok(rows)
}

/// The last measurement of `bug` made with exactly its current command.
fn measured_for(rows: &[(String, String, Measured)], bug: &BugInfo) -> Option<Measured> {
    rows.iter()
        .rev()
        .find(|(name, command, _)| *name == bug.name && *command == bug.command)
        .map(|(_, _, m)| m.clone())
}

/// Every planted bug of every layer, in the order `faultline bugs` lists them.
pub fn catalogue() -> Vec<BugInfo> {
    let mut bugs = faultline_raft::bugs::catalogue();
    bugs.extend(faultline_kvnode::bugs::catalogue());
    bugs
}

pub fn run(args: &BugsArgs) -> Result<u8> {
    let measured = parse_measured(MEASURED)?;
    let rows: Vec<Row> = catalogue()
        .into_iter()
        .map(|info| Row {
            measured: measured_for(&measured, &info),
            info,
        })
        .collect();
    if args.commands {
        for row in &rows {
            println!("{}\t{}", row.info.name, row.info.command);
        }
    } else if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for Row {
            info: bug,
            measured,
        } in &rows
        {
            println!("{:<22} {:<8} {}", bug.name, bug.layer, bug.description);
            println!("{:<22} {:<8} caught by: {}", "", "", bug.caught_by);
            let ratio = match measured {
                Some(m) => format!(
                    "{}/{} runs caught ({}, {})",
                    m.caught, m.runs, m.date, m.machine
                ),
                None => "not measured yet".to_string(),
            };
            println!("{:<22} {:<8} matrix: {} -> {ratio}", "", "", bug.command);
        }
        if let Some((_, command, m)) = measured.iter().rev().find(|(name, _, _)| name == "correct")
        {
            println!(
                "false alarms: the correct build, {} runs ({command}): {} invalid ({}, {})",
                m.runs, m.caught, m.date, m.machine
            );
        }
    }
    Ok(EXIT_VALID)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn every_matrix_command_parses_and_names_its_bug() {
        for bug in catalogue() {
            let words: Vec<&str> = bug.command.split_whitespace().collect();
            assert_eq!(words[0], "faultline", "{}", bug.command);
            assert!(
                bug.command.ends_with(&format!("--bug {}", bug.name)),
                "{}: the command must plant its own bug: {}",
                bug.name,
                bug.command
            );
            assert!(!bug.command.contains("--seed "), "{}", bug.command);
            if let Err(e) = Cli::try_parse_from(&words) {
                panic!("{}: {} does not parse: {e}", bug.name, bug.command);
            }
        }
    }

    #[test]
    fn the_measured_table_parses_and_names_only_known_bugs() {
        let rows = parse_measured(MEASURED).unwrap();
        let names: Vec<String> = catalogue().into_iter().map(|b| b.name).collect();
        for (name, _, m) in &rows {
            assert!(
                names.contains(name) || name == "correct",
                "unknown bug {name}"
            );
            assert!(m.caught <= m.runs, "{name}: {m:?}");
        }
        let bad = parse_measured("header\nno-dedup\tx\t10\td\tm\tc\n").unwrap_err();
        assert!(bad.to_string().contains("line 2"), "{bad}");
        let short = parse_measured("header\nno-dedup\t1\n").unwrap_err();
        assert!(short.to_string().contains("2 fields"), "{short}");
    }

    #[test]
    fn a_measurement_counts_only_for_the_command_it_was_made_with() {
        let bug = &catalogue()[0];
        let text = format!(
            "h\n{n}\t9\t10\t2026-12-06\tm\t{c}\n{n}\t1\t10\t2026-12-05\tm\tfaultline other\n",
            n = bug.name,
            c = bug.command
        );
        let rows = parse_measured(&text).unwrap();
        assert_eq!(measured_for(&rows, bug).unwrap().caught, 9);
        let stale = format!("h\n{}\t1\t10\td\tm\tfaultline other\n", bug.name);
        assert!(measured_for(&parse_measured(&stale).unwrap(), bug).is_none());
    }
}
