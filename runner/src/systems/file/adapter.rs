//! The client adapter protocol: faultline runs one long-lived adapter
//! process per client process and speaks JSON lines over its stdin and
//! stdout. A request is `{"f":"get|put|cas|append","key":..,"value":..}`
//! (cas: `value` is `[expected, new]`); the answer is one line
//! `{"type":"ok|fail|info","value":..,"error":..}` (a get's `value` is what
//! it read, `null` for absent). No answer within the timeout, an answer
//! that is not one of these, or an adapter that died make the operation
//! `info` (it may have happened), and the adapter is killed and started
//! afresh for the next request. An adapter that cannot be started at all
//! makes the operation `fail` (it never reached the store).
//!
//! The adapter's stderr is appended to a log of the run; it learns its
//! node through its environment and arguments (see [`super::clients`]).

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use faultline_workloads::{F, Op};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};

use super::spawner::spawn_tied;

/// How to start one adapter.
#[derive(Debug, Clone)]
pub struct AdapterLaunch {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    /// stderr is appended here.
    pub stderr_log: PathBuf,
    /// One request's budget.
    pub timeout: Duration,
    /// Added to the budget of the first request of a fresh adapter (its
    /// start-up: an interpreter, a connection).
    pub start_timeout: Duration,
}

/// What the adapter answered, or why there is no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Ok(Value),
    Fail(String),
    Info(String),
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// One adapter process, started on the first request and again after a
/// timeout or its death.
pub struct Adapter {
    launch: AdapterLaunch,
    running: Option<Running>,
    /// How many adapter processes were started (tests and logs).
    pub starts: u64,
}

/// The request line of `op`.
pub fn request(op: &Op) -> String {
    let f = match op.f {
        F::Get => "get",
        F::Put => "put",
        F::Cas => "cas",
        F::Append => "append",
    };
    let mut line = json!({"f": f, "key": op.key, "value": op.value}).to_string();
    line.push('\n');
    line
}

/// The answer in one line from an adapter.
pub fn parse_answer(line: &str) -> Answer {
    let v: Value = match serde_json::from_str(line.trim()) {
        Ok(v) => v,
        Err(e) => {
            return Answer::Info(format!(
                "adapter answered {:?}: not JSON ({e})",
                line.trim()
            ));
        }
    };
    // An empty reason is no reason: the history gets the default instead.
    let error = v
        .get("error")
        .and_then(|e| {
            e.as_str()
                .map(str::to_string)
                .or_else(|| (!e.is_null()).then(|| e.to_string()))
        })
        .filter(|e| !e.trim().is_empty());
    match v.get("type").and_then(Value::as_str) {
        Some("ok") => Answer::Ok(v.get("value").cloned().unwrap_or(Value::Null)),
        Some("fail") => Answer::Fail(error.unwrap_or_else(|| "failed".into())),
        Some("info") => Answer::Info(error.unwrap_or_else(|| "unknown".into())),
        _ => Answer::Info(format!(
            "adapter answered {:?}: `type` must be ok, fail or info",
            line.trim()
        )),
    }
}

impl Adapter {
    pub fn new(launch: AdapterLaunch) -> Adapter {
        Adapter {
            launch,
            running: None,
            starts: 0,
        }
    }

    /// The pid of the adapter running now.
    pub fn pid(&self) -> Option<u32> {
        self.running.as_ref().map(|r| r.child.id())
    }

    fn start(&mut self) -> Result<(), String> {
        let l = &self.launch;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&l.stderr_log)
            .map_err(|e| format!("opening {}: {e}", l.stderr_log.display()))?;
        let mut cmd = Command::new(&l.program);
        cmd.args(&l.args)
            .envs(l.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&l.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = spawn_tied(cmd).map_err(|e| {
            format!(
                "cannot start the client adapter {:?} (in {}): {e}; check client.command in the system file",
                l.program,
                l.cwd.display()
            )
        })?;
        let pipes = (child.stdin.take(), child.stdout.take());
        let (Some(stdin), Some(stdout)) = pipes else {
            kill(&mut child);
            return Err("the adapter has no stdin/stdout pipes".into());
        };
        let stdin = ChildStdin::from_std(stdin);
        let stdout = ChildStdout::from_std(stdout);
        match (stdin, stdout) {
            (Ok(stdin), Ok(stdout)) => {
                self.starts += 1;
                tracing::debug!(pid = child.id(), "started a client adapter");
                self.running = Some(Running {
                    child,
                    stdin,
                    stdout: BufReader::new(stdout),
                });
                Ok(())
            }
            (Err(e), _) | (_, Err(e)) => {
                kill(&mut child);
                Err(format!("adapter pipes: {e}"))
            }
        }
    }

    /// Kill the adapter now (the next request starts a new one).
    pub fn stop(&mut self) {
        if let Some(mut r) = self.running.take() {
            kill(&mut r.child);
        }
    }

    /// Send `op` and wait for the answer.
    pub async fn call(&mut self, op: &Op) -> Answer {
        let fresh = self.running.is_none();
        if fresh && let Err(e) = self.start() {
            return Answer::Fail(e);
        }
        let timeout = if fresh {
            self.launch.timeout + self.launch.start_timeout
        } else {
            self.launch.timeout
        };
        let Some(r) = self.running.as_mut() else {
            return Answer::Fail("no adapter".into());
        };
        let line = request(op);
        let exchange = async {
            r.stdin.write_all(line.as_bytes()).await?;
            r.stdin.flush().await?;
            let mut answer = String::new();
            let n = r.stdout.read_line(&mut answer).await?;
            Ok::<_, std::io::Error>((n, answer))
        };
        let answer = match tokio::time::timeout(timeout, exchange).await {
            Err(_) => Answer::Info(format!("the adapter gave no answer within {timeout:?}")),
            Ok(Err(e)) => Answer::Info(format!("the adapter's pipes broke: {e}")),
            Ok(Ok((0, _))) => Answer::Info("the adapter exited".into()),
            Ok(Ok((_, line))) => {
                let a = parse_answer(&line);
                if matches!(&a, Answer::Info(e) if e.starts_with("adapter answered")) {
                    // A garbled answer: its stream cannot be trusted any more.
                    self.stop();
                }
                return a;
            }
        };
        tracing::debug!(?answer, "restarting the client adapter");
        self.stop();
        answer
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Adapter {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(script: &str, timeout_ms: u64) -> (tempfile::TempDir, AdapterLaunch) {
        let dir = tempfile::tempdir().unwrap();
        let l = AdapterLaunch {
            program: "python3".into(),
            args: vec!["-u".into(), "-c".into(), script.into()],
            env: vec![],
            cwd: dir.path().to_path_buf(),
            stderr_log: dir.path().join("adapter.log"),
            timeout: Duration::from_millis(timeout_ms),
            start_timeout: Duration::from_millis(timeout_ms),
        };
        (dir, l)
    }

    /// Keeps a dict; answers every request.
    const GOOD: &str = r#"
import json, sys
kv = {}
for line in sys.stdin:
    r = json.loads(line)
    if r["f"] == "get":
        out = {"type": "ok", "value": kv.get(r["key"])}
    elif r["f"] == "put":
        kv[r["key"]] = r["value"]; out = {"type": "ok"}
    elif r["f"] == "cas":
        exp, new = r["value"]
        if kv.get(r["key"]) == exp:
            kv[r["key"]] = new; out = {"type": "ok"}
        else:
            out = {"type": "fail", "error": "differs"}
    else:
        out = {"type": "info", "error": "no append"}
    print(json.dumps(out), flush=True)
"#;

    fn have_python() -> bool {
        Command::new("python3")
            .arg("-c")
            .arg("")
            .status()
            .is_ok_and(|s| s.success())
    }

    #[tokio::test]
    async fn answers_map_to_outcomes() {
        if !have_python() {
            panic!("python3 is needed (apt-get install python3)");
        }
        let (_d, l) = launch(GOOD, 5000);
        let mut a = Adapter::new(l);
        assert_eq!(a.call(&Op::get("k")).await, Answer::Ok(Value::Null));
        assert!(matches!(
            a.call(&Op::put("k", json!(3))).await,
            Answer::Ok(_)
        ));
        assert_eq!(a.call(&Op::get("k")).await, Answer::Ok(json!(3)));
        assert_eq!(
            a.call(&Op::cas("k", json!(1), json!(2))).await,
            Answer::Fail("differs".into())
        );
        assert!(matches!(
            a.call(&Op::cas("k", json!(3), json!(4))).await,
            Answer::Ok(_)
        ));
        assert_eq!(a.call(&Op::get("k")).await, Answer::Ok(json!(4)));
        assert_eq!(
            a.call(&Op::append("k", "x")).await,
            Answer::Info("no append".into())
        );
        assert_eq!(a.starts, 1, "one long-lived adapter");
    }

    #[tokio::test]
    async fn a_crashing_adapter_is_info_and_restarted() {
        let crash = "import sys\nsys.stdin.readline()\nsys.exit(3)\n";
        let (_d, l) = launch(crash, 5000);
        let mut a = Adapter::new(l);
        for _ in 0..3 {
            assert!(matches!(a.call(&Op::get("k")).await, Answer::Info(e) if e.contains("exited")));
        }
        assert_eq!(a.starts, 3);
    }

    #[tokio::test]
    async fn a_hung_adapter_is_info_killed_and_restarted() {
        let hang = "import sys, time\nsys.stdin.readline()\ntime.sleep(600)\n";
        let (_d, l) = launch(hang, 300);
        let mut a = Adapter::new(l);
        let started = std::time::Instant::now();
        assert!(matches!(a.call(&Op::get("k")).await, Answer::Info(e) if e.contains("no answer")));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            started.elapsed() >= Duration::from_millis(600),
            "start-up grace"
        );
        assert!(a.pid().is_none(), "the hung adapter was killed");
        assert!(matches!(a.call(&Op::get("k")).await, Answer::Info(_)));
        assert_eq!(a.starts, 2);
    }

    #[tokio::test]
    async fn garbage_is_info_and_a_missing_program_is_fail() {
        let (_d, l) = launch(
            "import sys\nfor l in sys.stdin: print('hello', flush=True)\n",
            5000,
        );
        let mut a = Adapter::new(l);
        assert!(matches!(a.call(&Op::get("k")).await, Answer::Info(e) if e.contains("not JSON")));
        assert!(a.pid().is_none());
        let (_d, mut l) = launch("", 5000);
        l.program = "/nonexistent/adapter".into();
        let mut a = Adapter::new(l);
        assert!(
            matches!(a.call(&Op::get("k")).await, Answer::Fail(e) if e.contains("client.command"))
        );
    }

    #[test]
    fn answers_parse() {
        assert_eq!(
            parse_answer(r#"{"type":"ok","value":[1]}"#),
            Answer::Ok(json!([1]))
        );
        assert_eq!(
            parse_answer(r#"{"type":"fail"}"#),
            Answer::Fail("failed".into())
        );
        assert!(matches!(
            parse_answer(r#"{"type":"maybe"}"#),
            Answer::Info(_)
        ));
        // Found by the adapter_answer fuzz target: an empty reason became an
        // empty error in the history.
        assert_eq!(
            parse_answer(r#"{"type":"fail","error":"","value":3}"#),
            Answer::Fail("failed".into())
        );
        assert_eq!(
            parse_answer(r#"{"type":"info","error":" "}"#),
            Answer::Info("unknown".into())
        );
        assert_eq!(
            request(&Op::cas("k", json!(1), json!(2))),
            "{\"f\":\"cas\",\"key\":\"k\",\"value\":[1,2]}\n"
        );
    }
}
