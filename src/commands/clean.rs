//! `faultline clean`: removes what killed runs left behind. Every run keeps a
//! marker folder (`faultline_runner::markers`) listing its node processes
//! as (node, pid, command); for each marker whose runner is gone, clean
//! SIGKILLs the listed pids that still run that command (kvnode, etcd,
//! whatever the system under test runs; a reused pid of another program is
//! left alone) and removes the marker. Markers of live runs are kept.
//!
//! Then the namespace side: every network namespace, veth/bridge device,
//! iptables rule, faketime file and node process recorded by a run whose
//! owner is dead is removed (`faultline_harness::netns::cleanup_leftovers`).
//!
//! Last the disk side: a diskfs server unmounts when its runner dies, but a
//! SIGKILLed server leaves its FUSE mount behind ("transport endpoint is
//! not connected"); every diskfs mount whose server is gone is detached
//! (`faultline_diskfs::mounts::orphans`). Mounts of live servers are kept.

use anyhow::Result;
use faultline_runner::markers::{Leftover, leftovers, process_name, runs_dir};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::EXIT_VALID;

/// Whether a process exists (signal 0 checks without sending).
fn alive(pid: i32) -> bool {
    pid > 0
        && !matches!(
            kill(Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        )
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
    for (node, pid, command) in &l.processes {
        if *pid > 0
            && process_name(*pid).as_deref() == Some(command.as_str())
            && kill(Pid::from_raw(*pid), Signal::SIGKILL).is_ok()
        {
            println!("  killed {command} {node} (pid {pid}) of run {}", l.run_id);
            killed.push(*pid);
        }
    }
    if let Err(e) = std::fs::remove_dir_all(&l.dir) {
        eprintln!("  cannot remove {}: {e}", l.dir.display());
    }
    killed
}

/// Detach every diskfs mount whose server is gone: (unmounted, failures).
fn clean_disk_mounts() -> (usize, usize) {
    let mut done = 0;
    let mut failed = 0;
    for m in faultline_diskfs::mounts::orphans() {
        match faultline_diskfs::mounts::unmount(&m.mountpoint) {
            Ok(()) => {
                println!("  unmounted orphan diskfs mount {}", m.mountpoint.display());
                done += 1;
            }
            Err(e) => {
                eprintln!("  could not unmount {}: {e}", m.mountpoint.display());
                failed += 1;
            }
        }
    }
    (done, failed)
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
    let (unmounted, mount_problems) = clean_disk_mounts();
    println!("faultline clean: {unmounted} orphan diskfs mount(s) unmounted");
    if !net.problems.is_empty() || mount_problems > 0 {
        return Ok(super::EXIT_UNKNOWN);
    }
    Ok(EXIT_VALID)
}
