//! `--nemesis LIST`: package names to packages. `all` is every package,
//! `none` (or an empty list) none; an unknown name is an error that lists the
//! available ones. New packages (shard-move) are
//! added to [`available`] and [`build`].

use crate::clock::Clock;
use crate::error::NemesisError;
use crate::kill::Kill;
use crate::package::Package;
use crate::packet::Packet;
use crate::partition::Partition;
use crate::pause::Pause;

/// The names of every available package.
pub fn available() -> &'static [&'static str] {
    &["kill", "pause", "partition", "clock", "packet"]
}

fn build(name: &str) -> Option<Box<dyn Package>> {
    match name {
        "kill" => Some(Box::new(Kill::default())),
        "pause" => Some(Box::new(Pause::default())),
        "partition" => Some(Box::new(Partition::default())),
        "clock" => Some(Box::new(Clock::default())),
        "packet" => Some(Box::new(Packet::default())),
        _ => None,
    }
}

/// Parse a `--nemesis` value.
pub fn parse_packages(spec: &str) -> Result<Vec<Box<dyn Package>>, NemesisError> {
    let mut names: Vec<&str> = Vec::new();
    for name in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name {
            "none" => {}
            "all" => names.extend(available()),
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
        assert!(names("").is_empty());
        let err = parse_packages("kill,netsplit").err().unwrap().to_string();
        assert!(
            err.contains("\"netsplit\"") && err.contains("kill, pause, partition, clock, packet"),
            "{err}"
        );
    }
}
