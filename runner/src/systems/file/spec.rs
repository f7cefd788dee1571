//! The system file (`faultline run --system FILE.toml`): how to start one
//! node, how to know it is ready, where its log goes and which client
//! adapter to run. [`SystemSpec::load`] reads and checks it; every problem
//! is an error naming the file and the field (unknown fields too, so a
//! typo is caught), never a panic.
//!
//! ```toml
//! name = "tinykv"                      # optional: the test name prefix
//! [node]
//! command = ["python3", "tinykv.py", "--listen", "{addr}", "--data", "{data_dir}"]
//! env = { TINYKV_ID = "{id}" }         # optional
//! ports = 1                            # optional: ports per node ({port0}, {port1}, ...)
//! port = 7000                          # optional: the first port in namespaces
//! log = "{data_dir}/server.log"        # optional: a log the node writes itself
//! stop_grace_ms = 3000                 # optional: SIGTERM to SIGKILL
//! faketime = true                      # optional: false refuses --nemesis clock
//! [ready]
//! tcp = true                           # connect to {addr}; or command = [...]
//! timeout_s = 30
//! [client]
//! command = ["python3", "adapter.py"]
//! env = {}
//! timeout_ms = 2000                    # one request; then `info`, adapter restarted
//! start_timeout_ms = 10000             # added for a fresh adapter's first request
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::template::{CLIENT_VARS, NODE_VARS, dummy, render};

/// A system file, checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSpec {
    /// The start of the test name (default: the file's stem).
    pub name: Option<String>,
    pub node: NodeSpec,
    #[serde(default)]
    pub ready: ReadySpec,
    pub client: ClientSpec,
}

/// How to start one node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Program and arguments (no shell), with placeholders.
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default = "one")]
    pub ports: usize,
    #[serde(default = "default_port")]
    pub port: u16,
    /// A log file the node writes itself (its stdout and stderr go to
    /// `nodes/<n>/stdout.log` then); default: stdout and stderr are the log.
    pub log: Option<String>,
    #[serde(default = "default_grace")]
    pub stop_grace_ms: u64,
    /// In namespaces, run the node under libfaketime (the clock nemesis
    /// needs it; a JVM crawls under it, as it re-reads its clock file on
    /// every clock call).
    #[serde(default = "yes")]
    pub faketime: bool,
}

/// How to know a node is ready.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadySpec {
    /// Ready once `{addr}` accepts a TCP connection.
    pub tcp: Option<bool>,
    /// Ready once this command exits 0 (run on the control side).
    pub command: Option<Vec<String>>,
    #[serde(default = "default_ready_timeout")]
    pub timeout_s: u64,
}

impl Default for ReadySpec {
    fn default() -> ReadySpec {
        ReadySpec {
            tcp: None,
            command: None,
            timeout_s: default_ready_timeout(),
        }
    }
}

/// The client adapter, one long-lived process per client process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Added to the budget of a fresh adapter's first request.
    #[serde(default = "default_start_timeout_ms")]
    pub start_timeout_ms: u64,
}

fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}
fn default_port() -> u16 {
    7000
}
fn default_grace() -> u64 {
    3000
}
fn default_ready_timeout() -> u64 {
    30
}
fn default_timeout_ms() -> u64 {
    2000
}
fn default_start_timeout_ms() -> u64 {
    10_000
}

/// A system file that cannot be used; the message names the file and
/// the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("system file {path}: {message}")]
pub struct SpecError {
    pub path: String,
    pub message: String,
}

impl SystemSpec {
    /// Read and check the system file at `path`.
    pub fn load(path: &Path) -> Result<SystemSpec, SpecError> {
        let err = |message: String| SpecError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            err(format!(
                "cannot read it ({e}); give the path of a .toml file"
            ))
        })?;
        SystemSpec::parse(&text).map_err(err)
    }

    /// Parse and check a system file's text; the error names the field.
    pub fn parse(text: &str) -> Result<SystemSpec, String> {
        let spec: SystemSpec = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end().to_string();
            match e.span() {
                Some(span) => {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let section = before
                        .lines()
                        .rev()
                        .map(str::trim)
                        .find(|l| l.starts_with('['))
                        .map(|l| format!(" in {l}"))
                        .unwrap_or_default();
                    let source = text.lines().nth(line - 1).unwrap_or("").trim();
                    format!("line {line}{section} (`{source}`): {msg}")
                }
                None => msg,
            }
        })?;
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(name) = &self.name
            && (name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(format!(
                "name = {name:?}: use letters, digits, `-` and `_` only"
            ));
        }
        if self.node.command.is_empty() || self.node.command[0].is_empty() {
            return Err(
                "node.command is empty: give the program and its arguments, e.g. [\"python3\", \"store.py\", \"--listen\", \"{addr}\"]".into(),
            );
        }
        if !(1..=8).contains(&self.node.ports) {
            return Err(format!(
                "node.ports = {}: give between 1 and 8 ports per node",
                self.node.ports
            ));
        }
        if self.node.port == 0 || self.node.port as usize + self.node.ports > 65536 {
            return Err(format!(
                "node.port = {}: give a port between 1 and {}",
                self.node.port,
                65536 - self.node.ports
            ));
        }
        if !(100..=600_000).contains(&self.node.stop_grace_ms) {
            return Err(format!(
                "node.stop_grace_ms = {}: give between 100 and 600000",
                self.node.stop_grace_ms
            ));
        }
        let node_vars = dummy(NODE_VARS, self.node.ports);
        for (i, a) in self.node.command.iter().enumerate() {
            render(a, &node_vars).map_err(|e| format!("node.command[{i}]: {e}"))?;
        }
        for (k, v) in &self.node.env {
            check_env_name(k).map_err(|e| format!("node.env.{k}: {e}"))?;
            render(v, &node_vars).map_err(|e| format!("node.env.{k}: {e}"))?;
        }
        if let Some(log) = &self.node.log {
            render(log, &node_vars).map_err(|e| format!("node.log: {e}"))?;
        }
        match (&self.ready.tcp, &self.ready.command) {
            (Some(true), Some(_)) => {
                return Err("ready: give either tcp = true or command = [...], not both".into());
            }
            (_, Some(c)) if c.is_empty() => {
                return Err("ready.command is empty: give a program that exits 0 once the node serves, or use tcp = true".into());
            }
            (_, Some(c)) => {
                for (i, a) in c.iter().enumerate() {
                    render(a, &node_vars).map_err(|e| format!("ready.command[{i}]: {e}"))?;
                }
            }
            (Some(false), None) => {
                return Err(
                    "ready: tcp = false needs a command = [...] saying when a node is ready".into(),
                );
            }
            _ => {}
        }
        if !(1..=3600).contains(&self.ready.timeout_s) {
            return Err(format!(
                "ready.timeout_s = {}: give between 1 and 3600",
                self.ready.timeout_s
            ));
        }
        if self.client.command.is_empty() || self.client.command[0].is_empty() {
            return Err(
                "client.command is empty: give the adapter program, e.g. [\"python3\", \"adapter.py\"]".into(),
            );
        }
        let client_vars = dummy(CLIENT_VARS, 0);
        for (i, a) in self.client.command.iter().enumerate() {
            render(a, &client_vars).map_err(|e| format!("client.command[{i}]: {e}"))?;
        }
        for (k, v) in &self.client.env {
            check_env_name(k).map_err(|e| format!("client.env.{k}: {e}"))?;
            render(v, &client_vars).map_err(|e| format!("client.env.{k}: {e}"))?;
        }
        if self.client.start_timeout_ms > 600_000 {
            return Err(format!(
                "client.start_timeout_ms = {}: give at most 600000",
                self.client.start_timeout_ms
            ));
        }
        if !(10..=600_000).contains(&self.client.timeout_ms) {
            return Err(format!(
                "client.timeout_ms = {}: give between 10 and 600000",
                self.client.timeout_ms
            ));
        }
        Ok(())
    }
}

fn check_env_name(k: &str) -> Result<(), String> {
    if k.is_empty() || k.contains(['=', '\0']) {
        Err("not a valid environment variable name".into())
    } else {
        Ok(())
    }
}

/// The folder of a system file: relative programs and the processes'
/// working directory are taken from there.
pub fn system_dir(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("."));
    if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[node]
command = ["python3", "store.py", "--listen", "{addr}", "--peers", "{peers}"]
[client]
command = ["python3", "adapter.py", "{node}"]
"#;

    #[test]
    fn a_minimal_file_gets_the_defaults() {
        let s = SystemSpec::parse(GOOD).unwrap();
        assert_eq!(s.node.ports, 1);
        assert_eq!(s.node.port, 7000);
        assert_eq!(s.ready.timeout_s, 30);
        assert!(s.ready.command.is_none());
        assert_eq!(s.client.timeout_ms, 2000);
    }

    fn error_of(text: &str) -> String {
        SystemSpec::parse(text).unwrap_err()
    }

    #[test]
    fn bad_files_name_the_field() {
        let e = error_of("[node]\ncommand = []\n[client]\ncommand = [\"a\"]\n");
        assert!(e.contains("node.command is empty"), "{e}");
        let e = error_of("[node]\ncommand = [\"a\"]\n");
        assert!(e.contains("client"), "{e}");
        let e = error_of(&GOOD.replace("{addr}", "{adress}"));
        assert!(
            e.contains("node.command[3]") && e.contains("{adress}"),
            "{e}"
        );
        let e = error_of(&format!("{GOOD}timeout_msec = 5\n"));
        assert!(
            e.contains("line 6 in [client]") && e.contains("timeout_msec"),
            "{e}"
        );
        let e = error_of(&format!("{GOOD}timeout_ms = \"fast\"\n"));
        assert!(
            e.contains("line 6 in [client]") && e.contains("timeout_ms = \"fast\""),
            "{e}"
        );
        let e = error_of(&format!("{GOOD}[ready]\ntcp = false\n"));
        assert!(e.contains("ready"), "{e}");
        let e = error_of(&GOOD.replace("[client]", "[node.env]\n\"A=B\" = \"1\"\n[client]"));
        assert!(e.contains("node.env.A=B"), "{e}");
        let e = error_of(&format!("name = \"a b\"\n{GOOD}"));
        assert!(e.contains("name ="), "{e}");
    }

    #[test]
    fn ports_placeholders_follow_the_port_count() {
        let text = GOOD.replace("{peers}", "{port2}");
        assert!(error_of(&text).contains("{port2}"));
        let text = text.replace("[client]", "ports = 3\n[client]");
        assert!(SystemSpec::parse(&text).is_ok());
    }

    #[test]
    fn a_missing_file_is_an_error_not_a_panic() {
        let e = SystemSpec::load(Path::new("/nonexistent/system.toml")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/system.toml"), "{e}");
    }
}
