//! Helpers of the network-namespace tests: starting a harness, probing TCP
//! between namespaces, and checking that nothing of a run is left.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use faultline_cluster::harness::{NetnsHarness, NetnsOptions};
use faultline_cluster::netns::{RunId, process_in_run, runs_dir};

pub const NEEDS: &str = "the netns tests need root, iproute2 (`ip`), iptables, bash, coreutils `timeout` and libfaketime";

pub fn kvnode() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kvnode"))
}

/// A harness of `nodes` kvnodes in namespaces (under libfaketime).
pub fn harness(nodes: usize, dir: &std::path::Path) -> NetnsHarness {
    let mut opts = NetnsOptions::new(nodes, dir);
    opts.kvnode = Some(kvnode());
    NetnsHarness::start(opts).unwrap_or_else(|e| panic!("{NEEDS}: {e}"))
}

/// Whether a TCP connection from namespace `ns` to `addr` is established
/// within a second.
pub fn tcp_connects(ns: &str, addr: &str) -> bool {
    let (ip, port) = addr.rsplit_once(':').expect("host:port");
    let script = format!("exec 3<>/dev/tcp/{ip}/{port}");
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "timeout", "1", "bash", "-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("{NEEDS}: cannot run ip: {e}"));
    out.status.success()
}

fn stdout(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{NEEDS}: cannot run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What of run `run` exists: namespaces, host devices, its record folder,
/// and processes whose command line names it.
pub fn traces(run: &RunId) -> Vec<String> {
    let mut found = Vec::new();
    let ns_tag = format!("fl-{run}-");
    let dev_tag = format!("fl{run}");
    found.extend(
        stdout("ip", &["netns", "list"])
            .lines()
            .filter(|l| l.contains(&ns_tag))
            .map(|l| format!("namespace {l}")),
    );
    found.extend(
        stdout("ip", &["-o", "link", "show"])
            .lines()
            .filter(|l| l.contains(&dev_tag))
            .map(|l| format!("device {l}")),
    );
    found.extend(
        stdout("iptables", &["-S"])
            .lines()
            .filter(|l| l.contains(&ns_tag))
            .map(|l| format!("host rule {l}")),
    );
    if runs_dir().join(run.as_str()).exists() {
        found.push(format!(
            "record folder {}",
            runs_dir().join(run.as_str()).display()
        ));
    }
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if process_in_run(pid, run) {
            found.push(format!("process {pid}"));
        }
    }
    found
}

/// The iptables rules inside namespace `ns`.
pub fn rules_in(ns: &str) -> String {
    stdout("ip", &["netns", "exec", ns, "iptables", "-S", "INPUT"])
}
