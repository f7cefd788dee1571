//! Disk faults leave nothing behind: a `--nemesis power` run stopped by
//! Ctrl-C unmounts every diskfs and stops every server; a runner killed
//! outright (SIGKILL) leaves servers that unmount themselves when they see
//! their parent gone, and `faultline clean` stops the nodes; a diskfs
//! server killed outright leaves an orphan mount that `faultline clean`
//! unmounts. Needs root and /dev/fuse (says so and checks nothing without).

mod run_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use run_support::{
    command, is_root, only_run_dir, processes_under, reap_kvnodes, reap_processes, wait_for,
};

fn fuse_missing() -> Option<&'static str> {
    if !is_root() {
        return Some("not root");
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("/dev/fuse is missing");
    }
    None
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&needle))
        .map(str::to_string)
        .collect()
}

/// Start a long power run; wait until a power loss has happened.
fn start_power_run(dir: &Path) -> Child {
    let store = dir.join("store");
    let child = command(&dir.join("runs"))
        .args([
            "run",
            "--time-limit",
            "120",
            "--nemesis",
            "power",
            "--no-netns",
        ])
        .args(["--nemesis-interval", "2", "--concurrency", "4"])
        .args(["--store", store.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = wait_for(Duration::from_secs(60), || {
        std::panic::catch_unwind(|| only_run_dir(&store))
            .ok()
            .and_then(|run| std::fs::read_to_string(run.join("history.jsonl")).ok())
            .is_some_and(|h| h.contains("\"type\":\"ok\",\"f\":\"start-power\""))
    });
    assert!(started, "the run did not get to a power loss");
    child
}

fn diskfs_servers_under(dir: &Path) -> Vec<u32> {
    // comm is cut at 15 characters: "faultline-diskf"
    processes_under(dir, "faultline-diskf")
}

#[test]
fn ctrl_c_unmounts_and_stops_every_diskfs() {
    if let Some(why) = fuse_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = start_power_run(dir.path());
    let run = only_run_dir(&dir.path().join("store"));
    assert!(
        !mounts_under(dir.path()).is_empty(),
        "diskfs is mounted during the run"
    );
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let exited = wait_for(Duration::from_secs(90), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = child.kill();
    }
    let _ = child.wait();
    assert_eq!(reap_kvnodes(&run), 0, "kvnodes outlived the run");
    assert_eq!(
        reap_processes(&run, "faultline-diskf"),
        0,
        "diskfs servers outlived the run"
    );
    assert!(exited, "faultline exited after SIGINT");
    assert!(
        mounts_under(dir.path()).is_empty(),
        "{:?}",
        mounts_under(dir.path())
    );
}

#[test]
fn a_killed_runner_leaves_no_mount_after_clean() {
    if let Some(why) = fuse_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = start_power_run(dir.path());
    let run = only_run_dir(&dir.path().join("store"));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    let _ = child.wait();
    // The servers notice their parent is gone and unmount.
    let gone = wait_for(Duration::from_secs(20), || {
        diskfs_servers_under(&run).is_empty() && mounts_under(dir.path()).is_empty()
    });
    let out = command(&dir.path().join("runs"))
        .arg("clean")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let leftover_nodes = reap_kvnodes(&run);
    let leftover_servers = reap_processes(&run, "faultline-diskf");
    assert!(gone, "diskfs servers or mounts outlived their runner");
    assert_eq!(leftover_nodes, 0, "clean stopped the kvnodes");
    assert_eq!(leftover_servers, 0);
    assert!(
        mounts_under(dir.path()).is_empty(),
        "{:?}",
        mounts_under(dir.path())
    );
}

#[test]
fn clean_unmounts_the_mount_of_a_killed_diskfs() {
    if let Some(why) = fuse_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin: PathBuf = run_support::kvnode_dir().join("faultline-diskfs");
    assert!(
        bin.is_file(),
        "no {} (cargo build --release --workspace --bins)",
        bin.display()
    );
    let mount = dir.path().join("data");
    let ctl = dir.path().join("ctl.sock");
    let mut server = Command::new(&bin)
        .args(["--backing", dir.path().join("disk").to_str().unwrap()])
        .args(["--mount", mount.to_str().unwrap()])
        .args(["--control", ctl.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || !mounts_under(dir.path())
            .is_empty()
            && ctl.exists()),
        "diskfs did not mount"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        !mounts_under(dir.path()).is_empty(),
        "a SIGKILLed server cannot unmount"
    );
    let out = command(&dir.path().join("runs"))
        .arg("clean")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("unmounted orphan diskfs mount"), "{stdout}");
    assert!(
        mounts_under(dir.path()).is_empty(),
        "{:?}",
        mounts_under(dir.path())
    );
}
