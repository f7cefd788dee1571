//! A quick pass of the bug matrix (`scripts/bug-matrix.sh`), as the suite's
//! smoke test of issue 21's measurement: the script runs the command
//! `faultline bugs --commands` names for two planted bugs (one Raft bug
//! through the simulator, one KV bug through `faultline run` with real
//! processes) with fresh random seeds, counts them caught, and writes rows
//! `faultline bugs` can read; then one false-alarm run of the correct build
//! under `--nemesis all` (in network namespaces; skipped, saying why, when
//! this host cannot run them) must be valid. The full matrix (10 runs per bug)
//! and the 100-run false-alarm figure are long and run on demand.

mod run_support;

use std::path::Path;
use std::process::{Command, Output};

use run_support::{command, describe, faultline, netns_unavailable};

/// `scripts/bug-matrix.sh ARGS` with kvnode on PATH and the run markers in `dir`.
fn matrix(dir: &Path, args: &[&str]) -> Output {
    // `command` puts kvnode's folder first on PATH; the script adds the
    // folder of the faultline binary it is given.
    let env_of = command(&dir.join("runs"));
    let path = env_of
        .get_envs()
        .find(|(k, _)| *k == "PATH")
        .and_then(|(_, v)| v)
        .expect("PATH")
        .to_owned();
    Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/bug-matrix.sh"
    ))
    .args(["-b", faultline().to_str().expect("utf-8 path")])
    .arg("-s")
    .arg(dir.join("store"))
    .args(args)
    .env("PATH", path)
    .env("FAULTLINE_RUNS_DIR", dir.join("runs"))
    .output()
    .expect("running scripts/bug-matrix.sh")
}

/// The `caught` column of `bug`'s row in the script's table (the row is
/// `bug runs caught missed error command`; progress lines also start with
/// the bug's name but go on with `run`).
fn caught(stdout: &str, bug: &str) -> Option<u32> {
    stdout.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        match f.as_slice() {
            [name, runs, caught, ..] if *name == bug && runs.parse::<u32>().is_ok() => {
                caught.parse().ok()
            }
            _ => None,
        }
    })
}

#[test]
fn two_bugs_are_caught_by_their_catalogue_commands() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("measured.tsv");
    let out = matrix(
        dir.path(),
        &[
            "-n",
            "1",
            "-o",
            "figure8,no-dedup",
            "-w",
            tsv.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(caught(&stdout, "figure8"), Some(1), "{stdout}");
    assert_eq!(caught(&stdout, "no-dedup"), Some(1), "{stdout}");
    let rows = std::fs::read_to_string(&tsv).unwrap();
    let commands = String::from_utf8(
        Command::new(faultline())
            .args(["bugs", "--commands"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for row in rows.lines() {
        let f: Vec<&str> = row.split('\t').collect();
        assert_eq!(f.len(), 6, "{row}");
        assert_eq!(f[1..3], ["1", "1"], "{row}");
        assert!(
            commands.contains(&format!("{}\t{}", f[0], f[5])),
            "the row's command is not the catalogue's: {row}"
        );
    }
}

#[test]
fn unknown_bugs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = matrix(dir.path(), &["-n", "1", "-o", "no-such-bug"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no bug matched"));
}

#[test]
fn one_false_alarm_run_of_the_correct_build_is_valid() {
    if let Some(why) = netns_unavailable() {
        eprintln!("skipped: --nemesis all needs network namespaces: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = matrix(dir.path(), &["-f", "1", "-t", "10"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(stdout.contains("0 invalid, 1 valid, 0 unknown"), "{stdout}");
}
