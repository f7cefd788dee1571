//! A blocking client for one etcd member's v3 JSON gateway (grpc-gateway
//! over HTTP): `POST /v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn`,
//! `/v3/maintenance/status`, `/v3/cluster/member/list`, keys and values
//! base64-encoded, 64-bit numbers as JSON strings. Errors say whether the
//! request certainly never reached the member ([`CallError::NotSent`]) or
//! may have taken effect ([`CallError::Unknown`]).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

/// How a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The connection could not be made: the member certainly did not act.
    #[error("not sent: {0}")]
    NotSent(String),
    /// A timeout, a broken connection or an error from etcd: the request may
    /// or may not have taken effect.
    #[error("{0}")]
    Unknown(String),
}

/// What `/v3/maintenance/status` says about a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdStatus {
    pub member_id: u64,
    /// The leader's member id (0: none known).
    pub leader: u64,
    pub raft_term: u64,
    pub raft_applied: u64,
}

/// A client of one member (its base URL, e.g. `http://127.0.0.1:2379`).
#[derive(Clone)]
pub struct EtcdClient {
    base: String,
    agent: ureq::Agent,
}

fn b64(s: &str) -> String {
    B64.encode(s.as_bytes())
}

/// A 64-bit number the gateway may send as a string or a number (absent: 0).
fn num(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

fn classify(e: ureq::Error) -> CallError {
    match e {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            CallError::NotSent(io.to_string())
        }
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            CallError::NotSent(e.to_string())
        }
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
            CallError::NotSent(e.to_string())
        }
        other => CallError::Unknown(other.to_string()),
    }
}

impl EtcdClient {
    /// A client of the member at `base` whose calls each end within `timeout`.
    pub fn new(base: &str, timeout: Duration) -> EtcdClient {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_millis(500))))
            .http_status_as_error(false)
            .build()
            .into();
        EtcdClient {
            base: base.trim_end_matches('/').to_string(),
            agent,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// POST `body` to `path`; the parsed reply, or an error (an HTTP error
    /// status carries etcd's message).
    fn call(&self, path: &str, body: &Value) -> Result<Value, CallError> {
        let url = format!("{}{path}", self.base);
        let mut resp = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(classify)?;
        let status = resp.status();
        let text = resp.body_mut().read_to_string().map_err(classify)?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| CallError::Unknown(format!("bad reply from {url}: {e}: {text}")))?;
        if !status.is_success() || value.get("error").is_some() {
            let msg = value
                .get("message")
                .or_else(|| value.get("error"))
                .and_then(Value::as_str)
                .unwrap_or(&text);
            return Err(CallError::Unknown(format!("etcd {status}: {msg}")));
        }
        Ok(value)
    }

    /// The value of `key` (`None`: absent). Linearizable unless `serializable`
    /// (then the member answers from its own state, possibly stale).
    pub fn get(&self, key: &str, serializable: bool) -> Result<Option<String>, CallError> {
        Ok(self.get_revision(key, serializable)?.map(|(v, _)| v))
    }

    /// The value of `key` and the revision of its last change (`None`:
    /// absent).
    pub fn get_revision(
        &self,
        key: &str,
        serializable: bool,
    ) -> Result<Option<(String, u64)>, CallError> {
        let mut req = json!({"key": b64(key)});
        if serializable {
            req["serializable"] = json!(true);
        }
        let reply = self.call("/v3/kv/range", &req)?;
        let Some(kv) = reply
            .get("kvs")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        else {
            return Ok(None);
        };
        let raw = kv.get("value").and_then(Value::as_str).unwrap_or("");
        let bytes = B64
            .decode(raw)
            .map_err(|e| CallError::Unknown(format!("bad base64 value {raw:?}: {e}")))?;
        Ok(Some((
            String::from_utf8_lossy(&bytes).into_owned(),
            num(&kv["mod_revision"]),
        )))
    }

    /// Append `suffix` to the string value of `key` (absent: empty), as one
    /// linearizable read and a transaction that writes only if the key did
    /// not change since (its mod revision, or its absence); a lost race is
    /// retried, up to `attempts` reads. `Ok(false)`: every attempt lost a
    /// race, nothing was written. A failed read is [`CallError::NotSent`]
    /// (no write was sent); a failed transaction may have taken effect.
    pub fn append(&self, key: &str, suffix: &str, attempts: u32) -> Result<bool, CallError> {
        for _ in 0..attempts {
            let current = self
                .get_revision(key, false)
                .map_err(|e| CallError::NotSent(format!("append's read: {e}")))?;
            let (compare, value) = match current {
                Some((value, rev)) => (
                    json!({"key": b64(key), "target": "MOD", "result": "EQUAL", "mod_revision": rev.to_string()}),
                    value + suffix,
                ),
                None => (
                    json!({"key": b64(key), "target": "VERSION", "result": "EQUAL", "version": "0"}),
                    suffix.to_string(),
                ),
            };
            let req = json!({
                "compare": [compare],
                "success": [{"request_put": {"key": b64(key), "value": b64(&value)}}],
            });
            let reply = self.call("/v3/kv/txn", &req)?;
            if reply.get("succeeded").and_then(Value::as_bool) == Some(true) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub fn put(&self, key: &str, value: &str) -> Result<(), CallError> {
        self.call("/v3/kv/put", &json!({"key": b64(key), "value": b64(value)}))
            .map(|_| ())
    }

    /// Set `key` to `new` if its value is `expected` (`None`: if it does not
    /// exist) in one transaction; whether it did.
    pub fn cas(&self, key: &str, expected: Option<&str>, new: &str) -> Result<bool, CallError> {
        let compare = match expected {
            Some(v) => {
                json!({"key": b64(key), "target": "VALUE", "result": "EQUAL", "value": b64(v)})
            }
            None => {
                json!({"key": b64(key), "target": "VERSION", "result": "EQUAL", "version": "0"})
            }
        };
        let req = json!({
            "compare": [compare],
            "success": [{"request_put": {"key": b64(key), "value": b64(new)}}],
        });
        let reply = self.call("/v3/kv/txn", &req)?;
        Ok(reply
            .get("succeeded")
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    pub fn status(&self) -> Result<EtcdStatus, CallError> {
        let r = self.call("/v3/maintenance/status", &json!({}))?;
        let header = r.get("header").cloned().unwrap_or(Value::Null);
        Ok(EtcdStatus {
            member_id: num(&header["member_id"]),
            leader: num(&r["leader"]),
            raft_term: num(&r["raftTerm"]),
            raft_applied: num(&r["raftAppliedIndex"]).max(num(&r["raftIndex"])),
        })
    }

    /// The members as (member id, name) pairs.
    pub fn members(&self) -> Result<Vec<(u64, String)>, CallError> {
        let r = self.call("/v3/cluster/member/list", &json!({}))?;
        Ok(r.get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|m| {
                (
                    num(&m["ID"]),
                    m["name"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }
}
