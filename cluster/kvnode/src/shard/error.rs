//! Errors of the sharding state machines: encoding and decoding of log
//! entries and snapshots.

/// A sharding encode/decode failure.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("cannot encode {what}: {detail}")]
    Encode { what: &'static str, detail: String },
    #[error("cannot decode {what}: {detail}")]
    Decode { what: &'static str, detail: String },
}

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encode `value` with bincode.
pub(crate) fn encode<T: serde::Serialize>(
    what: &'static str,
    value: &T,
) -> Result<Vec<u8>, ShardError> {
    bincode::serde::encode_to_vec(value, bincode_config()).map_err(|e| ShardError::Encode {
        what,
        detail: e.to_string(),
    })
}

/// Decode a bincode `value`; trailing bytes are refused.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, ShardError> {
    let (value, used) = bincode::serde::decode_from_slice::<T, _>(bytes, bincode_config())
        .map_err(|e| ShardError::Decode {
            what,
            detail: e.to_string(),
        })?;
    if used != bytes.len() {
        return Err(ShardError::Decode {
            what,
            detail: format!("{} trailing bytes", bytes.len() - used),
        });
    }
    Ok(value)
}
