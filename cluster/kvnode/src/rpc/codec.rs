//! The wire codec: bincode 2 (serde, standard configuration) for frames and
//! for the payloads carried inside them.
//!
//! Decoding is bounded: bincode allocates a string's buffer from its length
//! prefix before reading it, so a hostile prefix (say 2^40) would abort the
//! process on a failed allocation or panic on capacity overflow. Every decode
//! therefore runs under bincode's byte limit, set to a size class at least
//! [`CLAIM_FACTOR`] times the input's length: valid input never claims more
//! (each value claims at most 16 bytes of memory per byte it is encoded in),
//! and a length no input of that size could back is refused before any
//! allocation.

use bincode::error::DecodeError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{Result, RpcError};

/// Memory bincode may claim per input byte: a `u128` (the widest value)
/// claims 16 bytes and is encoded in at least one.
const CLAIM_FACTOR: usize = 16;

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Decode one value from the front of `bytes` under a byte limit of at least
/// `CLAIM_FACTOR * bytes.len()` (the limit is a type parameter in bincode,
/// hence the size classes).
fn decode_bounded<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, usize), DecodeError> {
    macro_rules! limited {
        ($limit:expr) => {
            bincode::serde::decode_from_slice::<T, _>(bytes, config().with_limit::<{ $limit }>())
        };
    }
    let need = bytes.len().saturating_mul(CLAIM_FACTOR);
    if need <= 1 << 20 {
        limited!(1 << 20)
    } else if need <= 1 << 24 {
        limited!(1 << 24)
    } else if need <= 1 << 28 {
        limited!(1 << 28)
    } else if need <= 1 << 32 {
        limited!(1 << 32)
    } else {
        limited!(1 << 36)
    }
}

/// Encode a request or response payload (any serde type).
pub fn encode_payload<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| RpcError::Codec(e.to_string()))
}

/// Decode a payload produced by [`encode_payload`]; trailing bytes are an error.
pub fn decode_payload<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let (value, used) = decode_bounded::<T>(bytes).map_err(|e| match e {
        DecodeError::LimitExceeded => RpcError::Codec(format!(
            "a length inside the {} encoded bytes announces more data than they can hold",
            bytes.len()
        )),
        e => RpcError::Codec(e.to_string()),
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A string whose length prefix is 2^40 (bincode varint: 253, then a
    /// little-endian u64) followed by three bytes.
    fn huge_string() -> Vec<u8> {
        let mut bytes = vec![253];
        bytes.extend_from_slice(&(1u64 << 40).to_le_bytes());
        bytes.extend_from_slice(b"abc");
        bytes
    }

    #[test]
    fn a_hostile_string_length_is_an_error_not_an_allocation() {
        let err = decode_payload::<String>(&huge_string()).unwrap_err();
        assert!(
            err.to_string()
                .contains("announces more data than they can hold"),
            "{err}"
        );
        // Past isize::MAX: was a capacity-overflow panic.
        let mut bytes = vec![253];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_payload::<String>(&bytes).is_err());
    }

    #[test]
    fn a_status_frame_announcing_a_terabyte_is_refused() {
        // Found by the rpc_frame fuzz target (seed 1, input 18238): a
        // StatusResponse (variant 4, id 5) whose JSON string announces 2^40
        // bytes; decoding aborted the process on a failed allocation.
        let mut body = vec![4, 5];
        body.extend_from_slice(&huge_string());
        body.extend_from_slice(br#"{"group":0}"#);
        let err = decode_payload::<crate::rpc::Frame>(&body).unwrap_err();
        assert!(matches!(err, RpcError::Codec(_)), "{err}");
    }

    #[test]
    fn long_valid_strings_still_decode() {
        for len in [0usize, 1, 250, 251, 70_000, 3 << 20] {
            let s = "x".repeat(len);
            let bytes = encode_payload(&s).unwrap();
            assert_eq!(decode_payload::<String>(&bytes).unwrap(), s, "len {len}");
        }
        // Many small integers: each claims 8 bytes of memory for 1 encoded.
        let v: Vec<u64> = vec![1; 100_000];
        let bytes = encode_payload(&v).unwrap();
        assert_eq!(decode_payload::<Vec<u64>>(&bytes).unwrap(), v);
    }
}
