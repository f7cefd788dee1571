//! An operation a client invokes ([`Op`]) and its [`Outcome`]: `ok` (took
//! effect), `fail` (certainly did not) or `info` (unknown: it may take effect
//! at any later time). Values are JSON, as the history records them:
//! integers for the register, strings for append, `[expected, new]` for cas.

use serde_json::Value;

/// The function of an operation (the history's `f`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum F {
    Get,
    Put,
    Append,
    Cas,
}

impl F {
    pub fn name(self) -> &'static str {
        match self {
            F::Get => "get",
            F::Put => "put",
            F::Append => "append",
            F::Cas => "cas",
        }
    }
}

/// One operation on one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub f: F,
    pub key: String,
    /// `null` for a get, the value for put/append, `[expected, new]` for cas.
    pub value: Value,
}

impl Op {
    pub fn get(key: impl Into<String>) -> Op {
        Op {
            f: F::Get,
            key: key.into(),
            value: Value::Null,
        }
    }

    pub fn put(key: impl Into<String>, value: impl Into<Value>) -> Op {
        Op {
            f: F::Put,
            key: key.into(),
            value: value.into(),
        }
    }

    pub fn append(key: impl Into<String>, value: impl Into<String>) -> Op {
        Op {
            f: F::Append,
            key: key.into(),
            value: Value::String(value.into()),
        }
    }

    pub fn cas(key: impl Into<String>, expected: impl Into<Value>, new: impl Into<Value>) -> Op {
        Op {
            f: F::Cas,
            key: key.into(),
            value: Value::Array(vec![expected.into(), new.into()]),
        }
    }

    /// The `[expected, new]` of a cas.
    pub fn cas_pair(&self) -> Option<(&Value, &Value)> {
        match &self.value {
            Value::Array(v) if self.f == F::Cas && v.len() == 2 => Some((&v[0], &v[1])),
            _ => None,
        }
    }

    pub fn is_read(&self) -> bool {
        self.f == F::Get
    }
}

/// What became of an operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It took effect; `value` is what a get read (`null`: absent) or the
    /// op's own value for writes.
    Ok { value: Value, node: Option<String> },
    /// It certainly did not take effect (e.g. a cas whose comparison failed,
    /// or a request refused before it could be proposed).
    Fail { error: String, node: Option<String> },
    /// Unknown (a timeout, a lost connection): it may take effect later.
    Info { error: String, node: Option<String> },
}

impl Outcome {
    pub fn node(&self) -> Option<&str> {
        match self {
            Outcome::Ok { node, .. } | Outcome::Fail { node, .. } | Outcome::Info { node, .. } => {
                node.as_deref()
            }
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Outcome::Ok { .. } => "ok",
            Outcome::Fail { .. } => "fail",
            Outcome::Info { .. } => "info",
        }
    }
}
