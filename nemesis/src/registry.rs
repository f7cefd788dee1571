//! `--nemesis LIST`: package names to packages, and every package's
//! [`PackageInfo`] by name without building it ([`info`], [`needs_network`]).
//! `all` is every package the kind of run can use: the five node and network
//! faults, plus `shard-move` when the run is sharded ([`parse_packages_for`]);
//! not `power` (it needs disk faults), `clock-partition` nor `membership`
//! (name them);
//! `none` (or an empty list) none; an unknown name is an error that lists the
//! available ones. `shard-move` named explicitly in an unsharded run is
//! parsed here and refused by the caller (which knows the flag to suggest).
//!
//! A package may take one option after a colon, Jepsen-style:
//! `partition:isolate-leader` draws only that grudge. A package that takes
//! no option, or an option it does not know, is an error naming the choices.

use crate::clock::Clock;
use crate::clock_partition::ClockPartition;
use crate::error::NemesisError;
use crate::kill::Kill;
use crate::membership::Membership;
use crate::package::{Package, PackageInfo};
use crate::packet::Packet;
use crate::partition::Partition;
use crate::pause::Pause;
use crate::power::Power;
use crate::shard_move::ShardMove;

/// Every package, in the order `all` lists them.
pub const PACKAGES: [PackageInfo; 9] = [
    Kill::INFO,
    Pause::INFO,
    Partition::INFO,
    Clock::INFO,
    Packet::INFO,
    ShardMove::INFO,
    Power::INFO,
    ClockPartition::INFO,
    Membership::INFO,
];

/// The names of [`PACKAGES`], in order.
const NAMES: [&str; PACKAGES.len()] = {
    let mut names = [""; PACKAGES.len()];
    let mut i = 0;
    while i < PACKAGES.len() {
        names[i] = PACKAGES[i].name;
        i += 1;
    }
    names
};

/// The names of every available package.
pub fn available() -> &'static [&'static str] {
    &NAMES
}

/// The info of the package called `name`; `None` for an unknown name.
pub fn info(name: &str) -> Option<PackageInfo> {
    let name = name.split_once(':').map_or(name, |(n, _)| n);
    PACKAGES.iter().find(|p| p.name == name).copied()
}

/// Whether the package called `name` needs nodes in network namespaces
/// (false for an unknown name).
pub fn needs_network(name: &str) -> bool {
    info(name).is_some_and(|p| p.needs_network)
}

/// What `all` means: every package, less those that need shards when the
/// run is not sharded, less `power` (it needs disk faults under the nodes),
/// less `clock-partition` (a partition and clock faults at once, which the
/// `partition` and `clock` stops would heal) and less `membership` (a
/// sharded run cannot change its groups' members, and `all`'s false-alarm
/// figures predate it); name them to get them.
pub fn all(sharded: bool) -> Vec<&'static str> {
    PACKAGES
        .iter()
        .filter(|p| sharded || !p.needs_shards)
        .filter(|p| {
            ![
                Power::INFO.name,
                ClockPartition::INFO.name,
                Membership::INFO.name,
            ]
            .contains(&p.name)
        })
        .map(|p| p.name)
        .collect()
}

/// The package a `--nemesis` item names, with its option if it has one.
fn build(spec: &str) -> Result<Box<dyn Package>, NemesisError> {
    let (name, option) = match spec.split_once(':') {
        Some((name, option)) => (name, Some(option)),
        None => (spec, None),
    };
    let unknown = || NemesisError::UnknownPackage {
        name: name.to_string(),
        available: available().join(", "),
    };
    match option {
        None => build_plain(name).ok_or_else(unknown),
        Some(option) if name == Partition::INFO.name => {
            Ok(Box::new(Partition::only(option.parse()?)))
        }
        Some(option) if name == Power::INFO.name => Ok(Box::new(option.parse::<Power>()?)),
        Some(option) if available().contains(&name) => Err(NemesisError::Option(format!(
            "--nemesis {spec}: the {name} package takes no option (only partition and power do: partition:GRUDGE, power:TARGET+TEAR); drop \":{option}\""
        ))),
        Some(_) => Err(unknown()),
    }
}

fn build_plain(name: &str) -> Option<Box<dyn Package>> {
    match name {
        "kill" => Some(Box::new(Kill::default())),
        "pause" => Some(Box::new(Pause::default())),
        "partition" => Some(Box::new(Partition::default())),
        "clock" => Some(Box::new(Clock::default())),
        "packet" => Some(Box::new(Packet::default())),
        "shard-move" => Some(Box::new(ShardMove::default())),
        "power" => Some(Box::new(Power::default())),
        "clock-partition" => Some(Box::new(ClockPartition::default())),
        "membership" => Some(Box::new(Membership::default())),
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
            n => names.push(n),
        }
    }
    let mut packages: Vec<Box<dyn Package>> = Vec::new();
    for name in names {
        let package = build(name)?;
        // One package per kind: `partition,partition:halves` would run two
        // partitions that heal each other's rules.
        if let Some(other) = packages.iter().find(|p| p.name() == package.name()) {
            if other.spec() == package.spec() {
                continue;
            }
            return Err(NemesisError::Option(format!(
                "--nemesis names the {} package twice ({} and {}); keep one",
                package.name(),
                other.spec(),
                package.spec()
            )));
        }
        packages.push(package);
    }
    Ok(packages)
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
    fn a_package_option_picks_a_grudge_and_bad_options_are_named() {
        let p = parse_packages("kill,partition:isolate-leader").unwrap();
        assert_eq!(p[1].name(), "partition");
        assert_eq!(p[1].spec(), "partition:isolate-leader");
        assert_eq!(p[0].spec(), "kill");
        assert!(needs_network("partition:halves"));
        let err = |spec: &str| parse_packages(spec).err().unwrap().to_string();
        let e = err("partition:sideways");
        assert!(
            e.contains("\"sideways\"") && e.contains("isolate-leader"),
            "{e}"
        );
        let e = err("kill:leader");
        assert!(e.contains("takes no option"), "{e}");
        let e = err("partition,partition:halves");
        assert!(e.contains("twice"), "{e}");
        let e = err("netsplit:x");
        assert!(e.contains("\"netsplit\""), "{e}");
        // The same spec twice is one package, as for plain names.
        assert_eq!(
            parse_packages("partition:halves,partition:halves")
                .unwrap()
                .len(),
            1
        );
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

    #[test]
    fn every_package_builds_with_its_info_and_a_colour_of_its_own() {
        for p in PACKAGES {
            let built = build(p.name).expect(p.name);
            assert_eq!(built.info(), p);
            assert_eq!(built.name(), p.name);
            assert_eq!(info(p.name), Some(p));
            let hex = p.colour.strip_prefix('#').unwrap_or("");
            assert!(
                hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()),
                "{}: colour {:?} is not #rrggbb",
                p.name,
                p.colour
            );
        }
        for (i, a) in PACKAGES.iter().enumerate() {
            for b in &PACKAGES[i + 1..] {
                assert_ne!(
                    a.colour.to_ascii_lowercase(),
                    b.colour.to_ascii_lowercase(),
                    "{} and {} share a colour",
                    a.name,
                    b.name
                );
            }
        }
        assert_eq!(available(), PACKAGES.map(|p| p.name));
        assert!(info("netsplit").is_none());
    }

    #[test]
    fn network_and_shard_needs() {
        let net: Vec<&str> = available()
            .iter()
            .copied()
            .filter(|n| needs_network(n))
            .collect();
        assert_eq!(net, ["partition", "clock", "packet", "clock-partition"]);
        assert!(!needs_network("netsplit"));
        let sharded: Vec<&str> = PACKAGES
            .iter()
            .filter(|p| p.needs_shards)
            .map(|p| p.name)
            .collect();
        assert_eq!(sharded, ["shard-move"]);
    }
}
