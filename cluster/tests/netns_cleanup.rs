//! Nothing outlives a run: after a normal drop, after a panic inside the
//! run, and after the owning process is SIGKILLed (then
//! `cleanup_leftovers`), no namespace, device, rule, record or process of
//! the run is left.

mod netns_common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use faultline_cluster::harness::Harness;
use faultline_cluster::netns::{RunId, cleanup_leftovers};
use faultline_workloads::NetControl;
use netns_common::{NEEDS, harness, traces};

/// Start a 2-node run with a cut, a loss rule and a clock offset in force.
fn busy_run(dir: &std::path::Path) -> faultline_cluster::harness::NetnsHarness {
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

fn assert_present(run: &RunId) {
    let t = traces(run);
    assert!(t.iter().any(|x| x.starts_with("namespace")), "{t:?}");
    assert!(t.iter().any(|x| x.starts_with("device")), "{t:?}");
    assert!(t.iter().any(|x| x.starts_with("record")), "{t:?}");
    assert!(t.iter().any(|x| x.starts_with("process")), "{t:?}");
}

#[test]
fn drop_removes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let h = busy_run(dir.path());
    let run = h.network().run_id().clone();
    let ns = h.network().node(1).unwrap().namespace.clone();
    assert!(netns_common::rules_in(&ns).contains(&format!("fl-{run}-loss")));
    assert_present(&run);
    drop(h);
    assert_eq!(traces(&run), Vec::<String>::new());
}

#[test]
fn panic_inside_a_run_removes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let h = busy_run(dir.path());
        tx.send(h.network().run_id().clone()).unwrap();
        assert_present(h.network().run_id());
        panic!("planted panic with a run in force");
    }));
    assert!(result.is_err());
    let run = rx.recv().unwrap();
    assert_eq!(traces(&run), Vec::<String>::new());
}

/// Run by [`sigkilled_owner_is_cleaned_by_cleanup_leftovers`] in a child
/// process: set up a run, print its id, wait to be killed.
#[test]
#[ignore = "helper: started as a child process by another test"]
fn child_run_until_killed() {
    let Some(dir) = std::env::var_os("FL_NETNS_CHILD_DIR") else {
        panic!("only run as a child of sigkilled_owner_is_cleaned_by_cleanup_leftovers");
    };
    let dir = std::path::PathBuf::from(dir);
    let h = busy_run(&dir.join("run"));
    std::fs::write(dir.join("run-id"), h.network().run_id().as_str()).unwrap();
    std::thread::sleep(Duration::from_secs(120));
    drop(h);
}

#[test]
fn sigkilled_owner_is_cleaned_by_cleanup_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_run_until_killed",
            "--test-threads=1",
        ])
        .env("FL_NETNS_CHILD_DIR", dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{NEEDS}: cannot start the child: {e}"));
    let id_file = dir.path().join("run-id");
    let mut run = None;
    let until = Instant::now() + Duration::from_secs(30);
    while run.is_none() && Instant::now() < until && child.try_wait().unwrap().is_none() {
        run = std::fs::read_to_string(&id_file)
            .ok()
            .and_then(|s| RunId::parse(s.trim()));
        std::thread::sleep(Duration::from_millis(20));
    }
    let Some(run) = run else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child did not set up a run within 30 s (see its stderr above)");
    };
    assert_present(&run);
    child.kill().unwrap();
    child.wait().unwrap();
    // The owner is dead, its leftovers are not.
    assert_present(&run);
    let report = cleanup_leftovers();
    assert!(report.cleaned.contains(&run.to_string()), "{report:?}");
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(traces(&run), Vec::<String>::new());
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
