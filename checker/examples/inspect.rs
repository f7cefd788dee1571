//! Prints per-partition statistics of a check (a diagnostic aid):
//! `cargo run --release -p faultline-checker --example inspect -- FILE [MODEL] [--no-partition] [--timeout S]`.

use std::time::Duration;

use faultline_checker::{CheckOptions, ModelKind, check, parse_file};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: inspect FILE [MODEL] [--no-partition] [--timeout S]");
        std::process::exit(2);
    };
    let (history, format) = match parse_file(path.as_ref(), None) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let model: ModelKind = args
        .get(1)
        .filter(|a| !a.starts_with("--"))
        .map_or(format.default_model(), |m| {
            m.parse().unwrap_or(format.default_model())
        });
    let timeout = args
        .iter()
        .position(|a| a == "--timeout")
        .and_then(|i| args.get(i + 1))
        .and_then(|t| t.parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    let opts = CheckOptions {
        no_partition: args.iter().any(|a| a == "--no-partition"),
        all: true,
        timeout,
        ..Default::default()
    };
    match check(&history, model, &opts) {
        Ok(r) => {
            for p in &r.partition_results {
                println!(
                    "{:>10} {:>6} ops {:?} {:>10.3} ms {:>12} steps {:>10} memo entries {:>8} KB",
                    p.key.as_deref().unwrap_or("-"),
                    p.ops,
                    p.verdict,
                    p.elapsed_s * 1e3,
                    p.steps,
                    p.memo_entries,
                    p.memo_bytes >> 10
                );
            }
            println!(
                "{} in {:.3} ms; {}",
                r.verdict.name(),
                r.elapsed_s * 1e3,
                r.reason.unwrap_or_default()
            );
        }
        Err(e) => eprintln!("{e}"),
    }
}
