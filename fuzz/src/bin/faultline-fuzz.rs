//! `faultline-fuzz`: the long, on-demand fuzz pass (in process, seeded), and
//! the helpers the AFL++ pass needs (seed files, dictionaries), plus making
//! a given input of a seeded run again and replaying saved inputs.
//! `scripts/fuzz.sh` is the usual way in.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use faultline_fuzz::mutate::Mutator;
use faultline_fuzz::runner::{feed, show_input};
use faultline_fuzz::{RunOptions, TARGETS, Target, run, target};

#[derive(Parser)]
#[command(about = "Fuzz faultline's parsers of outside input")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the targets.
    List,
    /// Feed targets with seeded mutated inputs; exit 1 if any panicked.
    Run {
        /// Inputs per target.
        #[arg(long)]
        inputs: Option<u64>,
        /// Seconds per target (with --inputs: whichever comes first).
        #[arg(long)]
        time: Option<u64>,
        /// The seed (default: from the clock; printed either way).
        #[arg(long)]
        seed: Option<u64>,
        /// Save the first panicking input of each panic site here.
        #[arg(long, default_value = "target/fuzz-findings")]
        save: PathBuf,
        /// Targets to run (default: all).
        targets: Vec<String>,
    },
    /// Write input INDEX of the run seeded with SEED to FILE.
    Input {
        #[arg(long)]
        seed: u64,
        #[arg(long)]
        index: u64,
        target: String,
        file: PathBuf,
    },
    /// Feed saved inputs to a target and say which panic.
    Replay { target: String, files: Vec<PathBuf> },
    /// Write a target's seed inputs into DIR (one file each).
    Seeds { target: String, dir: PathBuf },
    /// Write a target's dictionary in AFL's format to FILE.
    Dict { target: String, file: PathBuf },
}

fn find(name: &str) -> Result<&'static Target> {
    target(name).with_context(|| {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        format!("no target {name:?}; the targets are: {}", names.join(", "))
    })
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::List => {
            for t in TARGETS {
                println!("{:<16} {}", t.name, t.about);
            }
            Ok(())
        }
        Command::Run {
            inputs,
            time,
            seed,
            save,
            targets,
        } => run_targets(inputs, time, seed, &save, &targets),
        Command::Input {
            seed,
            index,
            target,
            file,
        } => {
            let t = find(&target)?;
            let seeds = t.all_seeds();
            let mut out = Vec::new();
            Mutator::new(t, &seeds).input(seed, index, &mut out);
            std::fs::write(&file, &out).with_context(|| format!("writing {}", file.display()))?;
            println!(
                "wrote input #{index} of seed {seed} for {} ({} bytes) to {}",
                t.name,
                out.len(),
                file.display()
            );
            Ok(())
        }
        Command::Replay { target, files } => {
            let t = find(&target)?;
            let mut panicked = 0;
            for file in &files {
                let input =
                    std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
                match feed(t, &input) {
                    None => println!("{}: no panic", file.display()),
                    Some((location, message)) => {
                        panicked += 1;
                        println!("{}: PANIC at {location}: {message}", file.display());
                    }
                }
            }
            if panicked > 0 {
                bail!("{panicked} of {} inputs panicked", files.len());
            }
            Ok(())
        }
        Command::Seeds { target, dir } => {
            let t = find(&target)?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let seeds = t.all_seeds();
            for (i, s) in seeds.iter().enumerate() {
                let path = dir.join(format!("seed-{i:03}"));
                std::fs::write(&path, s).with_context(|| format!("writing {}", path.display()))?;
            }
            println!(
                "wrote {} seeds of {} to {}",
                seeds.len(),
                t.name,
                dir.display()
            );
            Ok(())
        }
        Command::Dict { target, file } => {
            let t = find(&target)?;
            let mut text = String::new();
            for (i, token) in t.dictionary.iter().enumerate() {
                let escaped: String = token
                    .iter()
                    .map(|&b| match b {
                        b'"' => "\\\"".to_string(),
                        b'\\' => "\\\\".to_string(),
                        0x20..=0x7e => (b as char).to_string(),
                        _ => format!("\\x{b:02x}"),
                    })
                    .collect();
                text.push_str(&format!("token_{i}=\"{escaped}\"\n"));
            }
            std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
            Ok(())
        }
    }
}

fn run_targets(
    inputs: Option<u64>,
    time: Option<u64>,
    seed: Option<u64>,
    save: &std::path::Path,
    names: &[String],
) -> Result<()> {
    let chosen: Vec<&'static Target> = if names.is_empty() {
        TARGETS.iter().collect()
    } else {
        names.iter().map(|n| find(n)).collect::<Result<_>>()?
    };
    if inputs.is_none() && time.is_none() {
        bail!("say how long to fuzz: --inputs N, --time SECS, or both");
    }
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    });
    println!("faultline-fuzz: seed {seed}");
    let opts = RunOptions {
        seed,
        inputs,
        time: time.map(Duration::from_secs),
        progress: Some(Duration::from_secs(30)),
    };
    let mut rows = Vec::new();
    let mut total_panics = 0;
    for t in chosen {
        let report = run(t, &opts);
        println!(
            "{:<16} {:>10} inputs {:>6} panics  {:>8.0}/s  {:>7.1}s  slowest input {:.1} ms (#{})",
            report.target,
            report.inputs,
            report.panics,
            report.rate(),
            report.elapsed.as_secs_f64(),
            report.slowest.0.as_secs_f64() * 1e3,
            report.slowest.1
        );
        for site in &report.sites {
            let dir = save.join(report.target);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join(format!("seed{seed}-input{}.bin", site.first_index));
            std::fs::write(&path, &site.first_input)
                .with_context(|| format!("writing {}", path.display()))?;
            println!(
                "  PANIC x{} at {}: {}\n    first input #{} saved to {}: {}",
                site.count,
                site.location,
                site.message,
                site.first_index,
                path.display(),
                show_input(&site.first_input, 200)
            );
        }
        total_panics += report.panics;
        rows.push(report);
    }
    println!("\n| target | inputs tried | panics found | inputs/s |");
    println!("|---|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.0} |",
            r.target,
            r.inputs,
            r.panics,
            r.rate()
        );
    }
    if total_panics > 0 {
        bail!("{total_panics} inputs panicked (seed {seed})");
    }
    Ok(())
}
