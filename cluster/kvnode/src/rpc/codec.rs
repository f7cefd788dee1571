//! The wire codec: bincode 2 (serde, standard configuration) for frames and
//! for the payloads carried inside them.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{Result, RpcError};

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encode a request or response payload (any serde type).
pub fn encode_payload<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| RpcError::Codec(e.to_string()))
}

/// Decode a payload produced by [`encode_payload`]; trailing bytes are an error.
pub fn decode_payload<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let (value, used) = bincode::serde::decode_from_slice::<T, _>(bytes, config())
        .map_err(|e| RpcError::Codec(e.to_string()))?;
    if used != bytes.len() {
        return Err(RpcError::Codec(format!(
            "{} trailing bytes after the encoded value",
            bytes.len() - used
        )));
    }
    Ok(value)
}

/// Append the encoding of `value` to `out`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<()> {
    bincode::serde::encode_into_std_write(value, out, config())
        .map(|_| ())
        .map_err(|e| RpcError::Codec(e.to_string()))
}
