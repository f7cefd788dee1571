//! The nightly matrix: workloads × nemesis configurations from the options,
//! validated; which configurations cannot run here (network faults when the
//! nodes would run on loopback) and why; and each run's seed, derived from
//! the nightly's base seed and the configuration's name.

use anyhow::{Result, bail};

use crate::cli::Workload;

/// The default nemesis configurations (`--nemesis`): no faults, each
/// package alone, all of them together.
pub const DEFAULT_NEMESIS: &str = "none,kill,pause,partition,clock,packet,all";

/// One configuration of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `<workload>-<nemesis>[-<bug>]`: the row of the trend table and the
    /// test name (store folder) of its runs.
    pub name: String,
    pub workload: &'static str,
    /// As given: `none`, `kill`, `kill+pause`, `all`.
    pub nemesis: String,
    /// The `--nemesis` value for `faultline run` (`kill,pause`).
    pub run_nemesis: String,
    /// Packages that need namespaces.
    pub network: Vec<&'static str>,
}

pub fn workload_name(w: Workload) -> &'static str {
    match w {
        Workload::Register => "register",
        Workload::Append => "append",
    }
}

/// The configurations, workload-major, in the order given; duplicates are
/// dropped. A nemesis configuration is `none`, `all` or package names joined
/// by `+`; an unknown name is an error listing the available ones.
pub fn build(workloads: &[Workload], nemesis: &[String], bug: Option<&str>) -> Result<Vec<Config>> {
    if workloads.is_empty() {
        bail!("--workloads is empty; use e.g. --workloads register,append");
    }
    if nemesis.is_empty() {
        bail!("--nemesis is empty; use e.g. --nemesis none,kill");
    }
    let mut specs: Vec<(String, Vec<&'static str>)> = Vec::new();
    for spec in nemesis {
        let spec = spec.trim();
        if spec.is_empty() {
            bail!("--nemesis has an empty entry; use names like none, kill, kill+pause, all");
        }
        let packages: Vec<&'static str> =
            faultline_nemesis::parse_packages(&spec.replace('+', ","))?
                .iter()
                .map(|p| p.name())
                .collect();
        if !specs.iter().any(|(s, _)| s == spec) {
            specs.push((spec.to_string(), packages));
        }
    }
    let mut seen = Vec::new();
    let mut configs = Vec::new();
    for &w in workloads {
        let workload = workload_name(w);
        if seen.contains(&workload) {
            continue;
        }
        seen.push(workload);
        for (spec, packages) in &specs {
            let bug_suffix = bug.map(|b| format!("-{b}")).unwrap_or_default();
            configs.push(Config {
                name: format!("{workload}-{spec}{bug_suffix}"),
                workload,
                nemesis: spec.clone(),
                run_nemesis: if packages.is_empty() {
                    "none".to_string()
                } else {
                    packages.join(",")
                },
                network: packages
                    .iter()
                    .copied()
                    .filter(|p| faultline_nemesis::needs_network(p))
                    .collect(),
            });
        }
    }
    Ok(configs)
}

/// Why a configuration cannot run when the nodes run on loopback for
/// `loopback_reason`; `None` when it can.
pub fn skip_reason(config: &Config, loopback_reason: Option<&str>) -> Option<String> {
    let why = loopback_reason?;
    if config.network.is_empty() {
        return None;
    }
    Some(format!(
        "{} needs nodes in network namespaces, but they run on loopback: {why}",
        config.network.join(",")
    ))
}

use faultline_raft::splitmix64;

/// Seeds are kept below 2^48 so every JSON reader (also JavaScript's
/// doubles) reads them exactly.
const SEED_MASK: u64 = (1 << 48) - 1;

/// The seed of the `rep`-th run (0-based) of `config_name` in a nightly with
/// base seed `base`: the same for the same configuration whatever else is in
/// the matrix, so a narrowed nightly (`--workloads`, `--nemesis`) replays
/// the same runs. Consecutive repetitions get consecutive seeds.
pub fn run_seed(base: u64, config_name: &str, rep: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in config_name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (splitmix64(base ^ h) >> 16).wrapping_add(rep as u64) & SEED_MASK
}

/// A base seed when none is given (printed, and recorded in the summary).
pub fn random_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    splitmix64(t ^ (u64::from(std::process::id()) << 32)) & SEED_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(configs: &[Config]) -> Vec<&str> {
        configs.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn default_matrix_and_narrowing() {
        let all: Vec<String> = DEFAULT_NEMESIS.split(',').map(str::to_string).collect();
        let m = build(&[Workload::Register, Workload::Append], &all, None).unwrap();
        assert_eq!(m.len(), 14);
        assert_eq!(m[0].name, "register-none");
        assert_eq!(m[0].run_nemesis, "none");
        assert_eq!(m[13].name, "append-all");
        assert_eq!(m[13].run_nemesis, "kill,pause,partition,clock,packet");
        assert_eq!(m[13].network, ["partition", "clock", "packet"]);

        let narrow = build(
            &[Workload::Append, Workload::Append],
            &["kill+pause".into(), "kill".into(), "kill+pause".into()],
            Some("no-dedup"),
        )
        .unwrap();
        assert_eq!(
            names(&narrow),
            ["append-kill+pause-no-dedup", "append-kill-no-dedup"]
        );
        assert_eq!(narrow[0].run_nemesis, "kill,pause");
        assert!(narrow[0].network.is_empty());
    }

    #[test]
    fn bad_options_are_errors_that_say_what_to_use() {
        let err = build(&[Workload::Register], &["kil".into()], None).unwrap_err();
        assert!(format!("{err:#}").contains("kill"), "{err:#}");
        assert!(build(&[Workload::Register], &[], None).is_err());
        assert!(build(&[], &["none".into()], None).is_err());
        assert!(build(&[Workload::Register], &[" ".into()], None).is_err());
    }

    #[test]
    fn network_configurations_are_skipped_on_loopback_with_the_reason() {
        let m = build(
            &[Workload::Register],
            &[
                "none".into(),
                "kill".into(),
                "partition".into(),
                "all".into(),
            ],
            None,
        )
        .unwrap();
        let why = Some("--no-netns was given");
        let skipped: Vec<Option<String>> = m.iter().map(|c| skip_reason(c, why)).collect();
        assert_eq!(skipped[0], None);
        assert_eq!(skipped[1], None);
        assert!(
            skipped[2]
                .as_deref()
                .unwrap()
                .contains("partition needs nodes in network namespaces")
        );
        assert!(
            skipped[3]
                .as_deref()
                .unwrap()
                .contains("--no-netns was given")
        );
        assert!(m.iter().all(|c| skip_reason(c, None).is_none()));
    }

    #[test]
    fn seeds_depend_on_base_name_and_repetition_only() {
        let a = run_seed(1, "register-kill", 0);
        assert_eq!(a, run_seed(1, "register-kill", 0));
        assert_eq!(run_seed(1, "register-kill", 1), a + 1);
        assert_ne!(a, run_seed(2, "register-kill", 0));
        assert_ne!(a, run_seed(1, "register-pause", 0));
        assert!(a <= SEED_MASK && random_seed() <= SEED_MASK);
    }
}
