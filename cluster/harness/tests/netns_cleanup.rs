//! Nothing outlives a run: after a normal drop, after a panic inside the
//! run, and after the owning process is SIGKILLed (then
//! `cleanup_leftovers`), no namespace, device, rule, record or process of
//! the run is left.

mod netns_common;

use std::time::Duration;

use faultline_harness::Harness;
use faultline_harness::netns::cleanup_leftovers;
use faultline_workloads::NetControl;
use netns_common::{
    assert_a_drop_removes_everything, assert_a_panic_removes_everything, harness, traces,
};

/// Start a 2-node run with a cut, a loss rule and a clock offset in force.
fn busy_run(dir: &std::path::Path) -> faultline_harness::NetnsHarness {
    let h = harness(2, dir);
    let net = h.network();
    NetControl::cut(&*net, &[("1".into(), "2".into())]).unwrap();
    NetControl::set_loss(&*net, 0.5).unwrap();
    NetControl::set_clock(&*net, "1", 1_500).unwrap();
    net.strobe_clock(
        2,
        (0, 100),
        Duration::from_millis(10),
        Duration::from_secs(60),
    )
    .unwrap();
    h
}

#[test]
fn drop_removes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let h = busy_run(dir.path());
    let run = h.network().run_id().clone();
    let ns = h.network().node(1).unwrap().namespace.clone();
    assert!(netns_common::rules_in(&ns).contains(&format!("fl-{run}-loss")));
    assert_a_drop_removes_everything(h, &run);
}

#[test]
fn panic_inside_a_run_removes_everything() {
    let dir = tempfile::tempdir().unwrap();
    assert_a_panic_removes_everything(|| {
        let h = busy_run(dir.path());
        let run = h.network().run_id().clone();
        (h, run)
    });
}

/// Run by [`sigkilled_owner_is_cleaned_by_cleanup_leftovers`] in a child
/// process: set up a run, print its id, wait to be killed.
#[test]
#[ignore = "helper: started as a child process by another test"]
fn child_run_until_killed() {
    let dir = netns_common::owner_dir();
    let h = busy_run(&dir.join("run"));
    netns_common::publish_run_and_wait(&dir, h.network().run_id());
    drop(h);
}

#[test]
fn sigkilled_owner_is_cleaned_by_cleanup_leftovers() {
    netns_common::assert_cleanup_after_sigkilled_owner("child_run_until_killed");
}

#[test]
fn cleanup_leaves_live_runs_alone() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(1, dir.path());
    let run = h.network().run_id().clone();
    let report = cleanup_leftovers();
    assert!(!report.cleaned.contains(&run.to_string()), "{report:?}");
    assert!(report.live.contains(&run.to_string()), "{report:?}");
    assert!(h.pid(1).is_some());
    assert!(!traces(&run).is_empty());
}
