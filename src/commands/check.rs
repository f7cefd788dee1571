//! `faultline check PATH...`: reads histories, checks them for
//! linearizability and prints a human summary or JSON. One file: a summary
//! (or one JSON object); several files or a folder: a line per file and a
//! summary. Exit 0 valid, 1 invalid, 2 unknown or error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use faultline_checker::{CheckOptions, CheckResult, Format, ModelKind, Verdict, check, parse_file};
use serde_json::json;

use super::{EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID};
use crate::cli::CheckArgs;

/// File extensions picked up when a folder is given.
const HISTORY_EXTENSIONS: &[&str] = &["jsonl", "json", "edn", "log", "txt"];

pub fn run(args: &CheckArgs) -> Result<u8> {
    let format: Option<Format> = args.format.as_deref().map(str::parse).transpose()?;
    let model: Option<ModelKind> = args.model.as_deref().map(str::parse).transpose()?;
    let timeout = match args.timeout {
        Some(t) if !(t.is_finite() && t > 0.0) => {
            bail!("--timeout must be a positive number of seconds, got {t}")
        }
        Some(t) => Some(Duration::from_secs_f64(t)),
        None => None,
    };
    let opts = CheckOptions {
        timeout,
        max_memory: args.max_memory.saturating_mul(1 << 20),
        all: args.all,
        no_partition: args.no_partition,
    };
    let files = expand(&args.paths)?;
    if files.is_empty() {
        bail!(
            "no history files found in {:?} (looked for .{})",
            args.paths,
            HISTORY_EXTENSIONS.join(", .")
        );
    }
    let single = files.len() == 1 && args.paths.len() == 1 && args.paths[0].is_file();
    if single {
        let (result, format) = check_one(&files[0], format, model, &opts)?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&summary_json(&files[0], format, &result))?
            );
        } else {
            print_human(&files[0], format, &result);
        }
        return Ok(exit_code(result.verdict));
    }
    let (mut valid, mut invalid, mut unknown, mut errors) = (0, 0, 0, 0);
    let mut total = 0.0;
    let mut slowest: Option<(f64, &Path)> = None;
    for file in &files {
        match check_one(file, format, model, &opts) {
            Ok((result, format)) => {
                match result.verdict {
                    Verdict::Valid => valid += 1,
                    Verdict::Invalid => invalid += 1,
                    Verdict::Unknown => unknown += 1,
                }
                total += result.elapsed_s;
                if slowest.is_none_or(|(s, _)| result.elapsed_s > s) {
                    slowest = Some((result.elapsed_s, file));
                }
                if args.json {
                    println!(
                        "{}",
                        serde_json::to_string(&summary_json(file, format, &result))?
                    );
                } else {
                    let note = match result.verdict {
                        Verdict::Invalid => {
                            result.counterexample.as_ref().map(|c| c.message.clone())
                        }
                        Verdict::Unknown => result.reason.clone(),
                        Verdict::Valid => None,
                    };
                    println!(
                        "{:<8} {:>9.3} ms {:>8} ops  {}{}",
                        result.verdict.name(),
                        result.elapsed_s * 1e3,
                        result.ops,
                        file.display(),
                        note.map_or(String::new(), |n| format!("  ({n})"))
                    );
                }
            }
            Err(err) => {
                errors += 1;
                if args.json {
                    println!(
                        "{}",
                        json!({"file": file, "verdict": "error", "error": format!("{err:#}")})
                    );
                } else {
                    println!(
                        "{:<8} {:>9} ms {:>8} ops  {}  ({err:#})",
                        "error",
                        "-",
                        "-",
                        file.display()
                    );
                }
            }
        }
    }
    let (slow_s, slow_file) =
        slowest.map_or((0.0, String::new()), |(s, f)| (s, f.display().to_string()));
    if args.json {
        println!(
            "{}",
            json!({"summary": {"files": files.len(), "valid": valid, "invalid": invalid, "unknown": unknown,
                "errors": errors, "elapsed_s": total, "slowest_s": slow_s, "slowest_file": slow_file}})
        );
    } else {
        println!(
            "{} files: {valid} valid, {invalid} invalid, {unknown} unknown, {errors} errors; checking took {:.3} s in total, slowest {:.3} ms ({slow_file})",
            files.len(),
            total,
            slow_s * 1e3
        );
    }
    Ok(if invalid > 0 {
        EXIT_INVALID
    } else if unknown > 0 || errors > 0 {
        EXIT_UNKNOWN
    } else {
        EXIT_VALID
    })
}

fn check_one(
    path: &Path,
    format: Option<Format>,
    model: Option<ModelKind>,
    opts: &CheckOptions,
) -> Result<(CheckResult, Format)> {
    let (history, format) = parse_file(path, format)?;
    let model = model.unwrap_or(format.default_model());
    let result =
        check(&history, model, opts).with_context(|| format!("checking {}", path.display()))?;
    Ok((result, format))
}

fn exit_code(v: Verdict) -> u8 {
    match v {
        Verdict::Valid => EXIT_VALID,
        Verdict::Invalid => EXIT_INVALID,
        Verdict::Unknown => EXIT_UNKNOWN,
    }
}

/// The JSON object of DESIGN.md / issue 3, plus a few helpful fields.
fn summary_json(file: &Path, format: Format, r: &CheckResult) -> serde_json::Value {
    json!({
        "file": file,
        "format": format,
        "model": r.model,
        "verdict": r.verdict,
        "ops": r.ops,
        "info": r.info,
        "failed": r.failed,
        "partitions": r.partitions,
        "elapsed_s": r.elapsed_s,
        "counterexample": r.counterexample,
        "reason": r.reason,
    })
}

fn print_human(file: &Path, format: Format, r: &CheckResult) {
    println!(
        "{}: {} ({format}, model {})",
        file.display(),
        r.verdict.name().to_uppercase(),
        r.model
    );
    println!(
        "  {} operations ({} with unknown outcome; {} failed and {} unknown reads dropped), {} partition{}, checked in {:.3} ms",
        r.ops,
        r.info,
        r.failed,
        r.unknown_reads,
        r.partitions,
        if r.partitions == 1 { "" } else { "s" },
        r.elapsed_s * 1e3
    );
    if let Some(reason) = &r.reason {
        println!("  reason: {reason}");
    }
    if let Some(cx) = &r.counterexample {
        println!("  {}", cx.message);
        if let Some(last) = &cx.last_linearized {
            println!(
                "  last operation that could be linearized: {}",
                last.describe()
            );
        }
        let n = cx.linearization.len();
        println!(
            "  longest partial linearization ({n} operations; initial state {}):",
            cx.initial_state
        );
        if n > 10 {
            println!("    ... {} earlier operations", n - 10);
        }
        for step in cx.linearization.iter().skip(n.saturating_sub(10)) {
            println!("    {:<60} => {}", step.op.describe(), step.state);
        }
        if !cx.concurrent.is_empty() {
            println!("  concurrent operations:");
            for op in &cx.concurrent {
                println!("    {}", op.describe());
            }
        }
    }
}

/// Files named directly, and history files (by extension) inside folders.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).with_context(|| format!("reading folder {}", p.display()))?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or folder", p.display());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| HISTORY_EXTENSIONS.contains(&e))
        {
            out.push(path);
        }
    }
    Ok(())
}
