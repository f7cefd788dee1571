//! One run of the nightly: `faultline run ...` as a child process of the
//! same binary, its stdout passed through and its stderr passed through and
//! remembered; the run folder it created (found by its seed); its outcome
//! read from the folder's results.json and test.json. Also what the
//! nightly's signal handler (the shared [`crate::commands::interrupt`])
//! stops: Ctrl-C / SIGTERM / SIGHUP are forwarded (as SIGINT) to the run in
//! progress, which stops cleanly by itself.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use faultline_reports::nightly::{NightlyRun, OpCounts, RunOutcome};
use faultline_reports::results::{Verdict, results_from};
use faultline_reports::schema::{RESULTS_FILE, RunResults, TEST_FILE, TestRecord};

use crate::commands::interrupt::{self, OnSignal};

/// Lines of the child's stderr kept for the summary's error message.
const STDERR_TAIL: usize = 20;

/// The nightly's signal state: whether a signal came, and the child run it
/// is forwarded to.
pub type Interrupt = interrupt::Interrupt<ChildRun>;

/// The pid of the run in progress (0: none).
#[derive(Default)]
pub struct ChildRun(AtomicU32);

impl OnSignal for ChildRun {
    const MESSAGE: &'static str = "faultline nightly: interrupted: stopping the current run, then writing the partial summary...";

    /// SIGINT to the running child, if any (it heals, stops its nodes and
    /// writes its partial run folder). A child that got the terminal's
    /// Ctrl-C itself gets a second SIGINT, which it takes the same way.
    fn stop(&self) {
        let pid = self.0.load(Ordering::SeqCst);
        if pid != 0 {
            // The child this nightly started and has not reaped yet (the pid
            // is cleared before it is reaped), so the pid is still its.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGINT,
            );
        }
    }
}

impl Interrupt {
    fn set_child(&self, pid: u32) {
        self.stops().0.store(pid, Ordering::SeqCst);
        if pid != 0 && self.interrupted() {
            self.stops().stop();
        }
    }
}

/// What to run.
pub struct ChildSpec<'a> {
    pub store: &'a Path,
    /// The test name (`--name`), the store folder of the run.
    pub name: &'a str,
    pub seed: u64,
    /// Every argument after the binary (`run --workload ...`).
    pub args: Vec<String>,
}

/// Runs `faultline run` once and reads how it ended.
pub fn run_child(spec: &ChildSpec<'_>, interrupt: &Interrupt) -> Result<NightlyRun> {
    let exe = std::env::current_exe().context("finding the faultline binary to run")?;
    let test_dir = spec.store.join(spec.name);
    let before = run_folders(&test_dir);
    std::io::stdout().flush().ok();
    let started = Instant::now();
    let mut child = Command::new(&exe)
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    interrupt.set_child(child.id());
    let tail = Arc::new(Mutex::new(Vec::<String>::new()));
    let tee = child.stderr.take().map(|stderr| {
        let tail = tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("{line}");
                let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                t.push(line);
                if t.len() > STDERR_TAIL {
                    t.remove(0);
                }
            }
        })
    });
    // The pid is cleared once the child has exited (`try_wait` reaps it), so
    // a late signal is never sent to a recycled pid.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(50)),
            Err(e) => break Err(e),
        }
    };
    interrupt.set_child(0);
    let status = status.context("waiting for the run")?;
    if let Some(t) = tee {
        let _ = t.join();
    }
    let duration_s = started.elapsed().as_secs_f64();
    let stderr_tail = tail.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let run_dir = find_run_folder(&test_dir, &before, spec.seed);
    Ok(outcome(
        spec,
        run_dir.as_deref(),
        status.code(),
        describe_exit(status),
        duration_s,
        &stderr_tail,
    ))
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("faultline run exited {c}"),
        (None, Some(s)) => format!("faultline run was killed by signal {s}"),
        (None, None) => "faultline run ended abnormally".to_string(),
    }
}

/// Run folders (names) under a test folder.
fn run_folders(test_dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(test_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// A run folder's test.json or results.json, if it reads (a child killed
/// early may have left neither).
fn read_record<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    faultline_reports::schema::read_json(path).ok()
}

/// The run folder the child created: new since `before`, its test.json
/// holding `seed` (the newest such, should there be several).
pub fn find_run_folder(test_dir: &Path, before: &BTreeSet<String>, seed: u64) -> Option<PathBuf> {
    run_folders(test_dir)
        .into_iter()
        .rev()
        .filter(|name| !before.contains(name))
        .map(|name| test_dir.join(name))
        .find(|dir| read_record::<TestRecord>(&dir.join(TEST_FILE)).map(|t| t.seed) == Some(seed))
}

/// The nightly's record of a finished child: from results.json when it has
/// one (the verdict; `unknown` when the run was interrupted and nothing was
/// found), else `error` with the best reason at hand (test.json's error, the
/// child's last error line, its exit).
pub fn outcome(
    spec: &ChildSpec<'_>,
    run_dir: Option<&Path>,
    exit_code: Option<i32>,
    exit_text: String,
    duration_s: f64,
    stderr_tail: &[String],
) -> NightlyRun {
    let rel = run_dir.and_then(|d| {
        let name = d.file_name()?.to_string_lossy().into_owned();
        Some(format!("{}/{name}", spec.name))
    });
    let results: Option<RunResults> = run_dir.and_then(|d| read_record(&d.join(RESULTS_FILE)));
    let test: Option<TestRecord> = run_dir.and_then(|d| read_record(&d.join(TEST_FILE)));
    let interrupted = results.as_ref().is_some_and(|r| r.interrupted)
        || test.as_ref().is_some_and(|t| t.interrupted);
    let view = results.map(results_from);
    let test_error = test.and_then(|t| t.error);
    let last_error = stderr_tail
        .iter()
        .rev()
        .find(|l| l.contains("error"))
        .or(stderr_tail.last())
        .cloned();
    let Some(view) = view else {
        let reason = test_error
            .or(last_error)
            .or_else(|| {
                run_dir
                    .is_none()
                    .then(|| "no run folder was created".to_string())
            })
            .unwrap_or_else(|| "results.json is missing or unreadable".to_string());
        return NightlyRun {
            seed: spec.seed,
            outcome: RunOutcome::Error,
            interrupted,
            run_dir: rel,
            exit_code,
            ops_per_s: None,
            ops: None,
            duration_s,
            error: Some(format!("{exit_text}: {reason}")),
        };
    };
    let outcome = match view.verdict {
        Verdict::Invalid => RunOutcome::Invalid,
        Verdict::Valid if !interrupted => RunOutcome::Valid,
        Verdict::Valid | Verdict::Unknown => RunOutcome::Unknown,
    };
    let reason = view
        .checkers
        .iter()
        .find(|c| c.verdict == Verdict::Unknown)
        .and_then(|c| c.message.clone());
    NightlyRun {
        seed: spec.seed,
        outcome,
        interrupted,
        run_dir: rel,
        exit_code,
        ops_per_s: view.throughput,
        ops: view.ops.map(|(ok, fail, info)| OpCounts { ok, fail, info }),
        duration_s,
        error: match outcome {
            RunOutcome::Unknown if interrupted => Some("interrupted".to_string()),
            RunOutcome::Unknown => reason.or(test_error),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(store: &Path) -> ChildSpec<'_> {
        ChildSpec {
            store,
            name: "register-kill",
            seed: 42,
            args: Vec::new(),
        }
    }

    fn folder(store: &Path, stamp: &str, test: &str, results: Option<&str>) -> PathBuf {
        let dir = store.join("register-kill").join(stamp);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("test.json"), test).unwrap();
        if let Some(r) = results {
            std::fs::write(dir.join("results.json"), r).unwrap();
        }
        dir
    }

    #[test]
    fn finds_the_new_folder_with_the_seed() {
        let store = tempfile::tempdir().unwrap();
        let test_dir = store.path().join("register-kill");
        folder(store.path(), "20260101T000000", r#"{"seed":42}"#, None);
        let before = run_folders(&test_dir);
        assert_eq!(find_run_folder(&test_dir, &before, 42), None);
        folder(store.path(), "20260101T000100", r#"{"seed":7}"#, None);
        let dir = folder(store.path(), "20260101T000200", r#"{"seed":42}"#, None);
        assert_eq!(find_run_folder(&test_dir, &before, 42), Some(dir));
        assert_eq!(
            find_run_folder(&store.path().join("nope"), &before, 42),
            None
        );
    }

    #[test]
    fn outcomes_from_results_test_json_and_stderr() {
        let store = tempfile::tempdir().unwrap();
        let s = spec(store.path());
        let valid = folder(
            store.path(),
            "20260101T000000",
            r#"{"seed":42,"interrupted":false}"#,
            Some(
                r#"{"verdict":"valid","ops":{"ok":9,"fail":1,"info":0},"throughput":812.5,"interrupted":false}"#,
            ),
        );
        let r = outcome(&s, Some(&valid), Some(0), "exited 0".into(), 20.0, &[]);
        assert_eq!(r.outcome, RunOutcome::Valid);
        assert_eq!(r.run_dir.as_deref(), Some("register-kill/20260101T000000"));
        assert_eq!(r.ops_per_s, Some(812.5));
        assert_eq!(
            r.ops,
            Some(OpCounts {
                ok: 9,
                fail: 1,
                info: 0
            })
        );
        assert_eq!((r.error, r.duration_s, r.seed), (None, 20.0, 42));

        let partial = folder(
            store.path(),
            "20260101T000100",
            r#"{"seed":42,"interrupted":true}"#,
            Some(r#"{"verdict":"valid","interrupted":true}"#),
        );
        let r = outcome(&s, Some(&partial), Some(2), "exited 2".into(), 3.0, &[]);
        assert_eq!((r.outcome, r.interrupted), (RunOutcome::Unknown, true));

        let invalid = folder(
            store.path(),
            "20260101T000200",
            r#"{"seed":42,"interrupted":true}"#,
            Some(r#"{"verdict":"invalid"}"#),
        );
        let r = outcome(&s, Some(&invalid), Some(2), "exited 2".into(), 3.0, &[]);
        assert_eq!(r.outcome, RunOutcome::Invalid, "a violation stays one");

        let unknown = folder(
            store.path(),
            "20260101T000300",
            r#"{"seed":42}"#,
            Some(
                r#"{"verdict":"unknown","checkers":{"linearizable":{"verdict":"unknown","message":"time budget"}}}"#,
            ),
        );
        let r = outcome(&s, Some(&unknown), Some(2), "exited 2".into(), 3.0, &[]);
        assert_eq!(r.outcome, RunOutcome::Unknown);
        assert_eq!(r.error.as_deref(), Some("time budget"));

        let failed = folder(
            store.path(),
            "20260101T000400",
            r#"{"seed":42,"error":"no leader elected within 20s"}"#,
            None,
        );
        let r = outcome(
            &s,
            Some(&failed),
            Some(2),
            "faultline run exited 2".into(),
            3.0,
            &[],
        );
        assert_eq!(r.outcome, RunOutcome::Error);
        assert_eq!(
            r.error.as_deref(),
            Some("faultline run exited 2: no leader elected within 20s")
        );

        let tail = [
            "progress".to_string(),
            "faultline: error: --bug x: unknown".to_string(),
            "bye".to_string(),
        ];
        let r = outcome(
            &s,
            None,
            Some(2),
            "faultline run exited 2".into(),
            0.1,
            &tail,
        );
        assert_eq!((r.outcome, r.run_dir.as_deref()), (RunOutcome::Error, None));
        assert!(
            r.error
                .unwrap()
                .ends_with("faultline: error: --bug x: unknown")
        );
        let r = outcome(&s, None, None, "killed by signal 9".into(), 0.1, &[]);
        assert_eq!(
            r.error.as_deref(),
            Some("killed by signal 9: no run folder was created")
        );
    }
}
