//! The clients of a `--system FILE` run: each client process has its own
//! [`Adapter`] bound to one node, `process % nodes` as the other systems
//! do, so a partitioned minority node is really asked. The adapter learns
//! its node from its environment (`FAULTLINE_NODE`: `host:port` of its
//! node, `FAULTLINE_NODE_ID`, `FAULTLINE_NODES`: every node's `host:port`
//! comma-separated in id order, `FAULTLINE_PROCESS`) and from the
//! `{node}`, `{node_id}`, `{nodes}`, `{process}` placeholders of
//! `client.command` and `client.env`.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use faultline_workloads::{Client, ClientFactory, F, Op, Outcome};
use serde_json::Value;

use super::adapter::{Adapter, AdapterLaunch, Answer};
use super::spec::ClientSpec;
use super::template::{Vars, render};

/// Opens an adapter per client process.
pub struct AdapterClients {
    pub spec: ClientSpec,
    /// (node name, `host:port`), in id order.
    pub nodes: Vec<(String, String)>,
    pub system_dir: PathBuf,
    pub run_dir: PathBuf,
    /// Register workload: integers in the history.
    pub int_values: bool,
}

impl AdapterClients {
    /// The adapter of client process `process` and its node's name.
    pub fn launch(&self, process: u64) -> Result<(AdapterLaunch, String), String> {
        let i = (process % self.nodes.len().max(1) as u64) as usize;
        let (name, addr) = self.nodes.get(i).cloned().unwrap_or_default();
        let all: Vec<&str> = self.nodes.iter().map(|(_, a)| a.as_str()).collect();
        let vars: Vars = [
            ("process", process.to_string()),
            ("node", addr.clone()),
            ("node_id", name.clone()),
            ("nodes", all.join(",")),
            ("run_dir", self.run_dir.display().to_string()),
            ("system_dir", self.system_dir.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut argv = self
            .spec
            .command
            .iter()
            .map(|a| render(a, &vars))
            .collect::<Result<Vec<_>, _>>()?;
        let mut env: Vec<(String, String)> = vec![
            ("FAULTLINE_NODE".into(), addr),
            ("FAULTLINE_NODE_ID".into(), name.clone()),
            ("FAULTLINE_NODES".into(), all.join(",")),
            ("FAULTLINE_PROCESS".into(), process.to_string()),
        ];
        for (k, v) in &self.spec.env {
            env.push((k.clone(), render(v, &vars)?));
        }
        let program = argv.remove(0);
        Ok((
            AdapterLaunch {
                program,
                args: argv,
                env,
                cwd: self.system_dir.clone(),
                stderr_log: self.run_dir.join("adapters.log"),
                timeout: Duration::from_millis(self.spec.timeout_ms),
                start_timeout: Duration::from_millis(self.spec.start_timeout_ms),
            },
            name,
        ))
    }
}

impl ClientFactory for AdapterClients {
    fn open(&self, process: u64) -> Box<dyn Client> {
        match self.launch(process) {
            Ok((launch, node)) => Box::new(AdapterClient {
                adapter: Adapter::new(launch),
                node,
                int_values: self.int_values,
            }),
            Err(e) => Box::new(Broken(e)),
        }
    }
}

/// One client process's adapter.
pub struct AdapterClient {
    adapter: Adapter,
    node: String,
    int_values: bool,
}

/// A read value as the history keeps it: an integer for the register
/// workload when the adapter sent a number or a decimal string.
fn read_value(v: Value, int_values: bool) -> Value {
    match v {
        Value::String(s) if int_values => s.parse::<i64>().map_or(Value::String(s), Value::from),
        other => other,
    }
}

#[async_trait]
impl Client for AdapterClient {
    async fn invoke(&mut self, op: &Op) -> Outcome {
        let node = Some(self.node.clone());
        match self.adapter.call(op).await {
            Answer::Ok(v) if op.f == F::Get => Outcome::Ok {
                value: read_value(v, self.int_values),
                node,
            },
            Answer::Ok(_) => Outcome::Ok {
                value: op.value.clone(),
                node,
            },
            Answer::Fail(error) => Outcome::Fail { error, node },
            Answer::Info(error) => Outcome::Info { error, node },
        }
    }
}

/// A client whose adapter command could not be built (never for a checked
/// system file): every operation fails.
struct Broken(String);

#[async_trait]
impl Client for Broken {
    async fn invoke(&mut self, _op: &Op) -> Outcome {
        Outcome::Fail {
            error: self.0.clone(),
            node: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_process_is_bound_to_one_node() {
        let spec: ClientSpec = toml::from_str(
            "command = [\"adapter\", \"--node\", \"{node}\", \"--all={nodes}\"]\nenv = { P = \"p{process}\" }",
        )
        .unwrap();
        let clients = AdapterClients {
            spec,
            nodes: vec![
                ("1".into(), "10.0.0.1:7000".into()),
                ("2".into(), "10.0.0.2:7000".into()),
            ],
            system_dir: "/sys".into(),
            run_dir: "/run".into(),
            int_values: true,
        };
        let (l, node) = clients.launch(3).unwrap();
        assert_eq!(node, "2");
        assert_eq!(l.program, "adapter");
        assert_eq!(
            l.args,
            [
                "--node",
                "10.0.0.2:7000",
                "--all=10.0.0.1:7000,10.0.0.2:7000"
            ]
        );
        assert!(l.env.contains(&("P".into(), "p3".into())));
        assert!(
            l.env
                .contains(&("FAULTLINE_NODE".into(), "10.0.0.2:7000".into()))
        );
        assert_eq!(read_value(Value::from("12"), true), Value::from(12));
        assert_eq!(read_value(Value::from("1,2,"), false), Value::from("1,2,"));
    }
}
