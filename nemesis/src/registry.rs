//! `--nemesis LIST`: package names to packages. `all` is every package the
//! kind of run can use: the five node and network faults, plus `shard-move`
//! when the run is sharded ([`parse_packages_for`]); `none` (or an empty
//! list) none; an unknown name is an error that lists the available ones.
//! `shard-move` named explicitly in an unsharded run is parsed here and
//! refused by the caller (which knows the flag to suggest).

use crate::clock::Clock;
use crate::error::NemesisError;
use crate::kill::Kill;
use crate::package::Package;
use crate::packet::Packet;
use crate::partition::Partition;
use crate::pause::Pause;
use crate::shard_move::ShardMove;

/// The names of every available package.
pub fn available() -> &'static [&'static str] {
    &[
        "kill",
        "pause",
        "partition",
        "clock",
        "packet",
        "shard-move",
    ]
}

/// What `all` means: every package, less `shard-move` when not sharded.
pub fn all(sharded: bool) -> Vec<&'static str> {
    available()
        .iter()
        .copied()
        .filter(|&n| sharded || n != "shard-move")
        .collect()
}

fn build(name: &str) -> Option<Box<dyn Package>> {
    match name {
        "kill" => Some(Box::new(Kill::default())),
        "pause" => Some(Box::new(Pause::default())),
        "partition" => Some(Box::new(Partition::default())),
        "clock" => Some(Box::new(Clock::default())),
        "packet" => Some(Box::new(Packet::default())),
        "shard-move" => Some(Box::new(ShardMove::default())),
        _ => None,
    }
}

/// Parse a `--nemesis` value for an unsharded run (`all` without shard-move).
pub fn parse_packages(spec: &str) -> Result<Vec<Box<dyn Package>>, NemesisError> {
    parse_packages_for(spec, false)
}

/// Parse a `--nemesis` value; `sharded`: `all` includes `shard-move`.
pub fn parse_packages_for(
    spec: &str,
    sharded: bool,
) -> Result<Vec<Box<dyn Package>>, NemesisError> {
    let mut names: Vec<&str> = Vec::new();
    for name in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name {
            "none" => {}
            "all" => names.extend(all(sharded)),
            n if available().contains(&n) => names.push(n),
            n => {
                return Err(NemesisError::UnknownPackage {
                    name: n.to_string(),
                    available: available().join(", "),
                });
            }
        }
    }
    let mut seen = Vec::new();
    names.retain(|n| {
        let new = !seen.contains(n);
        seen.push(n);
        new
    });
    Ok(names.into_iter().filter_map(build).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(spec: &str) -> Vec<&'static str> {
        parse_packages(spec)
            .unwrap()
            .iter()
            .map(|p| p.name())
            .collect()
    }

    #[test]
    fn lists_all_none_and_unknown() {
        assert_eq!(names("kill,pause"), ["kill", "pause"]);
        assert_eq!(names("pause, kill,pause"), ["pause", "kill"]);
        assert_eq!(
            names("all"),
            ["kill", "pause", "partition", "clock", "packet"]
        );
        assert!(names("none").is_empty());
        assert_eq!(names("shard-move,kill"), ["shard-move", "kill"]);
        let sharded: Vec<&str> = parse_packages_for("all", true)
            .unwrap()
            .iter()
            .map(|p| p.name())
            .collect();
        assert_eq!(
            sharded,
            [
                "kill",
                "pause",
                "partition",
                "clock",
                "packet",
                "shard-move"
            ]
        );
        assert!(names("").is_empty());
        let err = parse_packages("kill,netsplit").err().unwrap().to_string();
        assert!(
            err.contains("\"netsplit\"") && err.contains("kill, pause, partition, clock, packet"),
            "{err}"
        );
    }
}
