//! `faultline clean`: removes what killed runs left behind. Every run keeps a
//! marker folder (see `run::markers`) listing its node pids; for each marker
//! whose runner is gone, clean SIGKILLs the listed pids that are still
//! `kvnode` processes (a reused pid of another program is left alone) and
//! removes the marker. Markers of live runs are kept.
//!
//! Then the namespace side: every network namespace, veth/bridge device,
//! iptables rule, faketime file and kvnode process recorded by a run whose
//! owner is dead is removed (`faultline_harness::netns::cleanup_leftovers`).

use anyhow::Result;

use super::EXIT_VALID;
use super::run::markers::{Leftover, leftovers, process_name, runs_dir};

fn alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

fn runner_alive(l: &Leftover) -> bool {
    l.runner_pid.is_some_and(|p| {
        p as u32 != std::process::id()
            && alive(p)
            && process_name(p).is_some_and(|n| n.starts_with("faultline"))
    })
}

/// Stop a dead run's processes and remove its marker; returns the pids killed.
fn clean_marker(l: &Leftover) -> Vec<i32> {
    let mut killed = Vec::new();
    for (node, pid) in &l.pids {
        if process_name(*pid).as_deref() == Some("kvnode") {
            // SAFETY: SIGKILL to a pid just checked to be a kvnode process.
            let rc = unsafe { libc::kill(*pid, libc::SIGKILL) };
            if rc == 0 {
                println!("  killed kvnode {node} (pid {pid}) of run {}", l.run_id);
                killed.push(*pid);
            }
        }
    }
    if let Err(e) = std::fs::remove_dir_all(&l.dir) {
        eprintln!("  cannot remove {}: {e}", l.dir.display());
    }
    killed
}

pub fn run() -> Result<u8> {
    let all = leftovers();
    let mut cleaned = 0;
    let mut killed = 0;
    for l in &all {
        if runner_alive(l) {
            println!(
                "  run {} is still running (pid {}): left alone",
                l.run_id,
                l.runner_pid.unwrap_or(0)
            );
            continue;
        }
        killed += clean_marker(l).len();
        cleaned += 1;
    }
    println!(
        "faultline clean: {cleaned} leftover run(s) cleaned, {killed} process(es) killed ({})",
        runs_dir().display()
    );
    let net = faultline_harness::netns::cleanup_leftovers();
    for run in &net.cleaned {
        println!("  removed the namespaces, devices, rules and clock files of run {run}");
    }
    for run in &net.live {
        println!("  namespace run {run} is still running: left alone");
    }
    for p in &net.problems {
        eprintln!("  could not remove: {p}");
    }
    println!(
        "faultline clean: {} namespace run(s) cleaned, {} problem(s) ({})",
        net.cleaned.len(),
        net.problems.len(),
        faultline_harness::netns::runs_dir().display()
    );
    if !net.problems.is_empty() {
        return Ok(super::EXIT_UNKNOWN);
    }
    Ok(EXIT_VALID)
}
