//! Power loss end to end: with the planted `no-fsync` bug (the WAL is not
//! fsynced before acknowledging), `--nemesis power` (kill + drop what the
//! disk had not fsynced, diskfs under every data directory) finds lost
//! acknowledged appends, `--nemesis kill` does not (the kernel keeps the
//! writes of a killed process), and the correct build stays valid under
//! power. Every run leaves no mount and no process behind. Needs root and
//! /dev/fuse; without them it checks that `power` is refused with a clear
//! message.

mod run_support;

use std::path::Path;

use run_support::{describe, is_root, only_run_dir, output_in, read_json, reap_kvnodes};

fn fuse_missing() -> Option<&'static str> {
    if !is_root() {
        return Some("not root");
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("/dev/fuse is missing");
    }
    None
}

fn no_diskfs_mount_under(dir: &Path) {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let needle = dir.display().to_string();
    let left: Vec<&str> = info.lines().filter(|l| l.contains(&needle)).collect();
    assert!(left.is_empty(), "mounts left behind: {left:?}");
}

fn run(dir: &Path, line: &str) -> (std::process::Output, serde_json::Value, std::path::PathBuf) {
    let out = output_in(dir, line);
    let run = only_run_dir(&dir.join("store"));
    assert_eq!(reap_kvnodes(&run), 0, "kvnode processes outlived the run");
    no_diskfs_mount_under(dir);
    let results = read_json(&run.join("results.json"));
    (out, results, run)
}

#[test]
fn power_catches_no_fsync() {
    if let Some(why) = fuse_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (out, results, run) = run(
        dir.path(),
        "run --workload append --bug no-fsync --nemesis power --nemesis-interval 3 \
         --time-limit 30 --seed 1 --no-netns",
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(results["verdict"], "invalid", "{results}");
    assert!(
        results["nemesis"]["power"].as_u64().unwrap() >= 1,
        "{results}"
    );
    let test = read_json(&run.join("test.json"));
    assert!(
        test.to_string().contains("#b8860b"),
        "power's colour in test.json"
    );
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    assert!(history.contains("\"start-power\""), "power in the history");
    assert!(
        !run.join("nodes/1/disk").exists(),
        "backing folders are removed"
    );
}

#[test]
fn kill_does_not_catch_no_fsync() {
    if fuse_missing().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (out, results, _) = run(
        dir.path(),
        "run --workload append --bug no-fsync --nemesis kill --nemesis-interval 3 \
         --time-limit 30 --seed 1 --no-netns",
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(results["verdict"], "valid", "{results}");
}

#[test]
fn the_correct_build_stays_valid_under_power() {
    if let Some(why) = fuse_missing() {
        let dir = tempfile::tempdir().unwrap();
        let out = output_in(dir.path(), "run --nemesis power --time-limit 5 --no-netns");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
        assert!(
            stderr.contains("fuse") || stderr.contains("FUSE"),
            "{stderr}"
        );
        eprintln!("{why}: checked that power is refused");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (out, results, run_dir) = run(
        dir.path(),
        "run --workload append --nemesis power:majority+tear --nemesis-interval 3 \
         --time-limit 30 --seed 1 --no-netns",
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(results["verdict"], "valid", "{results}");
    assert!(
        results["nemesis"]["power"].as_u64().unwrap() >= 1,
        "{results}"
    );
    // The option reached the package: every power loss tore a majority.
    let history = std::fs::read_to_string(run_dir.join("history.jsonl")).unwrap();
    let starts: Vec<&str> = history
        .lines()
        .filter(|l| l.contains("\"start-power\"") && l.contains("\"target\""))
        .collect();
    assert!(!starts.is_empty(), "no start-power event with its target");
    for l in starts {
        assert!(
            l.contains("\"majority\"") && l.contains("\"tear\":true"),
            "{l}"
        );
    }
}

#[test]
fn etcd_unsafe_no_fsync_is_refused_by_an_etcd_without_the_flag() {
    let help = std::process::Command::new("etcd").arg("--help").output();
    if help.is_ok_and(|o| String::from_utf8_lossy(&o.stderr).contains("unsafe-no-fsync")) {
        eprintln!("this etcd has --unsafe-no-fsync: nothing to refuse");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = output_in(
        dir.path(),
        "run --db etcd --bug unsafe-no-fsync --nemesis power --time-limit 5",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr.contains("no --unsafe-no-fsync"), "{stderr}");
}
