//! The on-disk serialization of storage values: bincode 2 (serde) with the
//! standard configuration. Framing and checksums live elsewhere; this module
//! only turns values into bytes and back, refusing trailing garbage.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{Result, StorageError};

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Append the encoding of `value` to `out`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    what: &'static str,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<()> {
    bincode::serde::encode_into_std_write(value, out, config())
        .map(|_| ())
        .map_err(|e| StorageError::Encode {
            what,
            detail: e.to_string(),
        })
}

/// Encode `value` into a fresh buffer.
pub(crate) fn encode<T: Serialize + ?Sized>(what: &'static str, value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(what, value, &mut out)?;
    Ok(out)
}

/// Decode exactly one value from `bytes`; the error is a human-readable reason.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, String> {
    let (value, used) = bincode::serde::decode_from_slice::<T, _>(bytes, config())
        .map_err(|e| format!("cannot decode: {e}"))?;
    if used != bytes.len() {
        return Err(format!(
            "{} trailing bytes after the encoded value",
            bytes.len() - used
        ));
    }
    Ok(value)
}
