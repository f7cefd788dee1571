//! Client commands as they travel through the log, and their replies.
//!
//! A write is a [`Command`]: the client's id, its sequence number (one per
//! operation, reused on retries) and the [`Op`]. Its encoding (bincode) is the
//! data of a Raft log entry.

use serde::{Deserialize, Serialize};

use super::error::KvError;

/// An operation on one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Read a key (served through ReadIndex, normally not logged).
    Get { key: String },
    /// Set a key.
    Put { key: String, value: String },
    /// Append to a key's value (an absent key counts as empty).
    Append { key: String, value: String },
    /// Compare-and-set: when the current value equals `expected` (`None`:
    /// the key is absent), set it to `new`.
    Cas {
        key: String,
        expected: Option<String>,
        new: String,
    },
}

impl Op {
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key }
            | Op::Put { key, .. }
            | Op::Append { key, .. }
            | Op::Cas { key, .. } => key,
        }
    }

    /// Whether the operation changes state (and so goes through the log).
    pub fn is_write(&self) -> bool {
        !matches!(self, Op::Get { .. })
    }
}

/// A write command as stored in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub client_id: u64,
    /// The client's sequence number of this operation; retries reuse it.
    pub seq: u64,
    pub op: Op,
}

/// The outcome of an applied operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// A Get: the value, `None` when the key is absent.
    Value(Option<String>),
    /// A Put or Append took effect.
    Done,
    /// A Cas: whether it applied, and the key's value after it.
    Cas {
        applied: bool,
        current: Option<String>,
    },
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encode a command as log entry data.
pub fn encode_command(cmd: &Command) -> Result<Vec<u8>, KvError> {
    bincode::serde::encode_to_vec(cmd, config()).map_err(|e| KvError::Encode {
        what: "command",
        detail: e.to_string(),
    })
}

/// Decode log entry data as a command; trailing bytes are refused.
pub fn decode_command(bytes: &[u8]) -> Result<Command, KvError> {
    let (cmd, used) =
        bincode::serde::decode_from_slice::<Command, _>(bytes, config()).map_err(|e| {
            KvError::Decode {
                what: "command",
                detail: e.to_string(),
            }
        })?;
    if used != bytes.len() {
        return Err(KvError::Decode {
            what: "command",
            detail: format!("{} trailing bytes", bytes.len() - used),
        });
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_round_trips_and_garbage_is_refused() {
        let cmd = Command {
            client_id: 7,
            seq: 3,
            op: Op::Cas {
                key: "k".into(),
                expected: None,
                new: "v".into(),
            },
        };
        let bytes = encode_command(&cmd).unwrap();
        assert_eq!(decode_command(&bytes).unwrap(), cmd);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_command(&longer).is_err());
        assert!(decode_command(&[0xff, 0xff, 0xff]).is_err());
    }
}
