//! `faultline run --system FILE.toml` end to end, with the deliberately
//! non-replicated store of `examples/tinykv` and nothing but system files:
//! independent nodes give stale reads that are caught (exit 1); every
//! client on one node is linearizable under kill and pause (exit 0); a bad
//! system file is exit 2 naming the field; adapters that crash or hang
//! make operations `info`, are restarted and the run completes; and after
//! a SIGKILLed runner `faultline clean` leaves no node behind.
//!
//! Needs `python3` (Debian `python3`, installed by scripts/setup.sh).

mod run_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use run_support::{
    command, command_in, describe, netns_unavailable, only_run_dir, output_in, processes_under,
    read_json, reap_processes, wait_for,
};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/tinykv")
        .join(name)
}

fn require_python() {
    let ok = Command::new("python3")
        .args(["-c", ""])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "python3 is needed: apt-get install python3");
}

/// `--no-netns` unless the host can run nodes in namespaces.
fn net_flag() -> &'static str {
    if netns_unavailable().is_some() {
        " --no-netns"
    } else {
        ""
    }
}

/// The tinykv nodes (python3 processes) a run under `dir` left alive.
fn nodes_left(dir: &Path) -> usize {
    let n = processes_under(dir, "python3").len();
    reap_processes(dir, "python3");
    n
}

/// A system file in `dir` running the tinykv example's programs, with
/// `client_extra` added to its `[client]` table.
fn tinykv_file(dir: &Path, primary: bool, client_extra: &str) -> PathBuf {
    let text = format!(
        r#"name = "tinykv-test"
[node]
command = ["python3", "{store}", "--listen", "{{addr}}", "--data", "{{data_dir}}"]
[ready]
tcp = true
timeout_s = 20
[client]
command = ["python3", "{adapter}", "{primary}", "{{run_dir}}"]
{client_extra}
"#,
        store = example("tinykv.py").display(),
        adapter = example("adapter.py").display(),
        primary = if primary { "--primary" } else { "--own-node" },
    );
    let path = dir.join("system.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_system_file_alone_catches_the_stale_reads_of_a_non_replicated_store() {
    require_python();
    let dir = tempfile::tempdir().unwrap();
    let line = format!(
        "run --system {} --nemesis none --time-limit 4 --no-netns --seed 1",
        example("tinykv.toml").display()
    );
    let out = output_in(dir.path(), &line);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let run = only_run_dir(&dir.path().join("store"));
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "invalid", "{results}");
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["options"]["db"], "file", "{test}");
    assert!(run.join("system.toml").is_file());
    for n in 1..=3 {
        let log = std::fs::read_to_string(run.join(format!("nodes/{n}/node.log"))).unwrap();
        assert!(log.contains("tinykv serving"), "node {n} log: {log}");
    }
    assert_eq!(nodes_left(dir.path()), 0, "nodes outlived the run");
}

#[test]
fn one_copy_of_the_data_is_linearizable_under_kill_and_pause() {
    require_python();
    let dir = tempfile::tempdir().unwrap();
    let line = format!(
        "run --system {} --nemesis kill,pause --nemesis-interval 2 --time-limit 8 --seed 2{}",
        example("tinykv-primary.toml").display(),
        net_flag()
    );
    let out = output_in(dir.path(), &line);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let run = only_run_dir(&dir.path().join("store"));
    let results = read_json(&run.join("results.json"));
    assert!(results["ops"]["ok"].as_u64().unwrap() > 20, "{results}");
    assert!(
        results["nemesis"]["kill"].as_u64().unwrap_or(0) >= 1,
        "{results}"
    );
    assert_eq!(nodes_left(dir.path()), 0, "nodes outlived the run");
}

#[test]
fn a_bad_system_file_is_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // A typo in a field name.
        (
            "[node]\ncomand = [\"x\"]\n[client]\ncommand = [\"y\"]\n",
            "comand",
        ),
        // A wrong type.
        (
            "[node]\ncommand = [\"x\"]\n[client]\ncommand = [\"y\"]\ntimeout_ms = \"soon\"\n",
            "timeout_ms",
        ),
        // An unknown placeholder.
        (
            "[node]\ncommand = [\"x\", \"{adress}\"]\n[client]\ncommand = [\"y\"]\n",
            "node.command[1]",
        ),
        // A missing table.
        ("[node]\ncommand = [\"x\"]\n", "client"),
        // Not TOML at all.
        ("this is not toml", "line 1"),
    ];
    for (i, (text, field)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = output_in(
            dir.path(),
            &format!("run --system {} --time-limit 1", path.display()),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
        assert!(
            stderr.contains(field) && stderr.contains(&path.display().to_string()),
            "case {i}: the error should name {field:?} and the file: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let missing = output_in(dir.path(), "run --system /nonexistent/sys.toml");
    assert_eq!(missing.status.code(), Some(2), "{}", describe(&missing));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/sys.toml"));
    let both = output_in(
        dir.path(),
        &format!(
            "run --db etcd --system {}",
            example("tinykv.toml").display()
        ),
    );
    assert_eq!(both.status.code(), Some(2), "{}", describe(&both));
    let no_file = output_in(dir.path(), "run --db file --time-limit 1");
    assert_eq!(no_file.status.code(), Some(2), "{}", describe(&no_file));
    assert!(String::from_utf8_lossy(&no_file.stderr).contains("--system"));
}

/// Run the primary tinykv with adapters misbehaving as `client_extra`
/// says; the run completes and valid, with `info` operations.
fn misbehaving_adapters(client_extra: &str) {
    require_python();
    let dir = tempfile::tempdir().unwrap();
    let file = tinykv_file(dir.path(), true, client_extra);
    let line = format!(
        "run --system {} --nemesis none --time-limit 5 --no-netns --concurrency 3 --seed 3",
        file.display()
    );
    let out = output_in(dir.path(), &line);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let run = only_run_dir(&dir.path().join("store"));
    let results = read_json(&run.join("results.json"));
    let info = results["ops"]["info"].as_u64().unwrap();
    let ok = results["ops"]["ok"].as_u64().unwrap();
    assert!(info >= 3, "expected info operations: {results}");
    // Restarted adapters keep serving: many more oks than one per adapter.
    assert!(ok > 3 * info, "{results}");
    assert_eq!(
        nodes_left(dir.path()),
        0,
        "nodes or adapters outlived the run"
    );
}

#[test]
fn crashing_adapters_make_info_and_are_restarted() {
    misbehaving_adapters("env = { TINYKV_CRASH_EVERY = \"9\" }");
}

#[test]
fn hanging_adapters_make_info_are_killed_and_restarted() {
    misbehaving_adapters("timeout_ms = 300\nenv = { TINYKV_HANG_EVERY = \"9\" }");
}

#[test]
fn clean_stops_the_nodes_of_a_killed_system_run() {
    require_python();
    let dir = tempfile::tempdir().unwrap();
    let file = tinykv_file(dir.path(), true, "");
    let line = format!(
        "run --system {} --nemesis pause --nemesis-interval 2 --time-limit 120 --concurrency 2{}",
        file.display(),
        net_flag()
    );
    let mut child = command_in(dir.path(), &line)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Three nodes and two adapters, all with the test folder on their command line.
    let up = wait_for(Duration::from_secs(60), || {
        processes_under(dir.path(), "python3").len() >= 5
    });
    assert!(up, "the run did not get going");
    std::thread::sleep(Duration::from_secs(1));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    let _ = child.wait();
    // Adapters die with the runner; the nodes outlive it until clean.
    let adapters_gone = wait_for(Duration::from_secs(5), || {
        processes_under(dir.path(), "python3").len() <= 3
    });
    assert!(adapters_gone, "adapters outlived a SIGKILLed runner");
    assert!(
        !processes_under(dir.path(), "python3").is_empty(),
        "expected orphaned nodes"
    );
    let out = command(&dir.path().join("runs"))
        .arg("clean")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let gone = wait_for(Duration::from_secs(10), || {
        processes_under(dir.path(), "python3").is_empty()
    });
    let left = nodes_left(dir.path());
    assert!(gone && left == 0, "clean left {left} node(s): {stdout}");
    assert!(stdout.contains("1 leftover run(s) cleaned"), "{stdout}");
    let test = only_run_dir(&dir.path().join("store")).join("test.json");
    if test.is_file()
        && let Some(id) = read_json(&test)["netns_run"].as_str()
    {
        run_support::assert_no_netns_left(id);
    }
}
