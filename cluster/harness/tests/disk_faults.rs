//! Disk faults on real kvnode processes: every node of a group loses power
//! (kill, drop what its disk had not fsynced, restart). With the planted
//! `no-fsync` bug the acknowledged appends are gone; the correct build keeps
//! them all. A harness dropped by a panic unmounts every diskfs. Needs root
//! and /dev/fuse (says which is missing and checks nothing without).

mod kv_common;

use std::path::Path;

use faultline_harness::disk::DiskFaults;
use faultline_harness::{Harness, LoopbackHarness, LoopbackOptions};
use faultline_kvnode::client::{ClientOptions, KvClient, fresh_client_id};
use kv_common::*;

fn fuse_missing() -> Option<&'static str> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root");
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("/dev/fuse is missing");
    }
    None
}

fn start_on_diskfs(dir: &Path, bugs: &[&str]) -> LoopbackHarness {
    let mut opts = LoopbackOptions::new(3, dir);
    opts.kvnode = Some(faultline_harness::find_kvnode().expect("the kvnode binary"));
    opts.bugs = bugs.iter().map(|s| s.to_string()).collect();
    opts.disk_faults = Some(DiskFaults {
        seed: 3,
        binary: None,
    });
    LoopbackHarness::start(opts).expect("start group on diskfs")
}

fn mounts_under(dir: &Path) -> usize {
    let needle = dir.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&needle))
        .count()
}

/// Append 20 elements (all acknowledged), cut the power of every node,
/// restart them; what a read of the list then returns, and what was written.
async fn appends_after_a_total_power_loss(bugs: &[&str]) -> (Option<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut h = start_on_diskfs(dir.path(), bugs);
    h.wait_for_leader(LEADER_WAIT).await.expect("a leader");
    let mut c = KvClient::new(fresh_client_id(), &h.addresses(), ClientOptions::default());
    let mut written = String::new();
    for i in 0..20 {
        ok(&mut c, append("log", &format!("{i},"))).await;
        written.push_str(&format!("{i},"));
    }
    for id in h.node_ids() {
        h.kill(id).unwrap();
    }
    for id in h.node_ids() {
        let loss = h.lose_unsynced(id, false).unwrap();
        assert!(loss["bytes"].is_u64(), "{loss}");
    }
    for id in h.node_ids() {
        h.restart(id).unwrap();
    }
    h.wait_for_leader(LEADER_WAIT)
        .await
        .expect("a leader after the power loss");
    let got = read(&mut c, "log").await;
    h.stop_all().unwrap();
    assert_eq!(mounts_under(dir.path()), 0, "stop_all unmounts");
    (got, written)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_fsync_loses_acknowledged_appends_at_a_power_loss() {
    if let Some(why) = fuse_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let (got, written) = appends_after_a_total_power_loss(&["no-fsync"]).await;
    assert_ne!(
        got.as_deref(),
        Some(written.as_str()),
        "no-fsync kept every append"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_build_keeps_every_acknowledged_append_at_a_power_loss() {
    if let Some(why) = fuse_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let (got, written) = appends_after_a_total_power_loss(&[]).await;
    assert_eq!(got, Some(written));
}

#[test]
fn a_panic_with_a_group_on_diskfs_leaves_no_mount() {
    if let Some(why) = fuse_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let joined = std::thread::spawn(move || {
        let _h = start_on_diskfs(&path, &[]);
        assert!(mounts_under(&path) >= 3, "three diskfs mounts");
        panic!("a test failing with a group on diskfs");
    })
    .join();
    assert!(joined.is_err(), "the thread panicked");
    assert_eq!(mounts_under(dir.path()), 0, "Drop unmounted every diskfs");
}
