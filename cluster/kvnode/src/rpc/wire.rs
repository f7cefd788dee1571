//! Length-delimited framing: `[u32 big-endian length][bincode Frame]`. The
//! announced length is checked against the maximum before any buffer is
//! allocated for it.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::codec;
use super::error::{Result, RpcError};
use super::frame::Frame;

/// Bytes of the length prefix.
pub const LEN_PREFIX: usize = 4;

/// Append one length-prefixed frame to `out`; refuses frames over `max`
/// (nothing is appended then).
pub fn encode_frame(frame: &Frame, max: u32, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0u8; LEN_PREFIX]);
    if let Err(e) = codec::encode_into(frame, out) {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start - LEN_PREFIX;
    if len > max as usize {
        out.truncate(start);
        return Err(RpcError::FrameTooLarge {
            len: len as u64,
            max: max.into(),
        });
    }
    out[start..start + LEN_PREFIX].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}

/// Decode the body of one frame.
pub fn decode_frame(body: &[u8]) -> Result<Frame> {
    codec::decode_payload(body)
}

/// Read one frame body. `Ok(None)` on a clean end of stream at a frame
/// boundary. A length over `max` is an error before anything is allocated.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: u32,
    peer: &str,
) -> Result<Option<Vec<u8>>> {
    let mut prefix = [0u8; LEN_PREFIX];
    let mut have = 0;
    while have < LEN_PREFIX {
        let n = reader
            .read(&mut prefix[have..])
            .await
            .map_err(super::error::io_err("read from", peer))?;
        if n == 0 {
            if have == 0 {
                return Ok(None);
            }
            return Err(RpcError::Codec(format!(
                "connection closed inside a frame header ({have} of {LEN_PREFIX} bytes)"
            )));
        }
        have += n;
    }
    let len = u32::from_be_bytes(prefix);
    if len > max {
        return Err(RpcError::FrameTooLarge {
            len: len.into(),
            max: max.into(),
        });
    }
    if len == 0 {
        return Err(RpcError::Codec("empty frame".into()));
    }
    let mut body = vec![0u8; len as usize];
    reader
        .read_exact(&mut body)
        .await
        .map_err(super::error::io_err("read from", peer))?;
    Ok(Some(body))
}

/// Write already-encoded frames in one go.
pub async fn write_all<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    peer: &str,
) -> Result<()> {
    writer
        .write_all(bytes)
        .await
        .map_err(super::error::io_err("write to", peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_oversize_is_refused() {
        let mut buf = Vec::new();
        let frame = Frame::Request {
            id: 7,
            payload: vec![1, 2, 3],
        };
        encode_frame(&frame, 1024, &mut buf).unwrap();
        encode_frame(&Frame::StatusRequest { id: 8 }, 1024, &mut buf).unwrap();
        let big = Frame::Response {
            id: 1,
            payload: vec![0; 2000],
        };
        let before = buf.len();
        assert!(matches!(
            encode_frame(&big, 1024, &mut buf),
            Err(RpcError::FrameTooLarge { .. })
        ));
        assert_eq!(buf.len(), before);
        let mut reader = &buf[..];
        let a = read_frame(&mut reader, 1024, "test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(decode_frame(&a).unwrap(), frame);
        let b = read_frame(&mut reader, 1024, "test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(decode_frame(&b).unwrap(), Frame::StatusRequest { id: 8 });
        assert!(
            read_frame(&mut reader, 1024, "test")
                .await
                .unwrap()
                .is_none()
        );
        let huge = u32::MAX.to_be_bytes();
        let err = read_frame(&mut &huge[..], 1024, "test").await.unwrap_err();
        assert!(matches!(err, RpcError::FrameTooLarge { len, .. } if len == u64::from(u32::MAX)));
    }
}
