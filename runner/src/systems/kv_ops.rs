//! Workload operations to and from the key/value stores, shared by the
//! systems under test: a history value as the string a store keeps
//! ([`text`]) and back ([`value`]; register values, integers in the
//! history, travel as decimal strings), and for the kvnode stacks (one
//! group, [`super::kvnode`], or sharded, [`super::sharded`]) a workload `Op`
//! as a KV request ([`kv_op`]) and the client's answer as the history's
//! outcome ([`outcome`]).

use faultline_kvnode::client::Outcome as KvOutcome;
use faultline_kvnode::kv::{Op as KvOp, Reply};
use faultline_workloads::{F, Op, Outcome};
use serde_json::Value;

/// A history value as the string the store keeps.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A stored string as a history value (`null`: absent); an integer when
/// `int_values` (the register workload) and it parses as one.
pub fn value(s: Option<String>, int_values: bool) -> Value {
    match s {
        None => Value::Null,
        Some(s) if int_values => s.parse::<i64>().map_or(Value::String(s), Value::from),
        Some(s) => Value::String(s),
    }
}

/// The KV request of a workload operation.
pub fn kv_op(op: &Op) -> KvOp {
    let key = op.key.clone();
    match op.f {
        F::Get => KvOp::Get { key },
        F::Put => KvOp::Put {
            key,
            value: text(&op.value),
        },
        F::Append => KvOp::Append {
            key,
            value: text(&op.value),
        },
        F::Cas => {
            let (expected, new) = op.cas_pair().unwrap_or((&Value::Null, &Value::Null));
            KvOp::Cas {
                key,
                expected: (!expected.is_null()).then(|| text(expected)),
                new: text(new),
            }
        }
    }
}

/// The history outcome of `op` from the KV client's answer; `node_name`
/// names the node that served it.
pub fn outcome(
    answer: KvOutcome,
    op: &Op,
    int_values: bool,
    node_name: impl FnOnce(u64) -> String,
) -> Outcome {
    match answer {
        KvOutcome::Ok { reply, node } => {
            let node = Some(node_name(node));
            match reply {
                Reply::Value(v) => Outcome::Ok {
                    value: value(v, int_values),
                    node,
                },
                Reply::Done | Reply::Cas { applied: true, .. } => Outcome::Ok {
                    value: op.value.clone(),
                    node,
                },
                Reply::Cas {
                    applied: false,
                    current,
                } => Outcome::Fail {
                    error: format!("cas: the value was {}", value(current, int_values)),
                    node,
                },
            }
        }
        // Certainly not applied (refused before any log, or a read).
        KvOutcome::Fail(error) => Outcome::Fail { error, node: None },
        // Sent and maybe applied (e.g. a timeout after sending): unknown.
        KvOutcome::Indeterminate(error) => Outcome::Info { error, node: None },
    }
}
