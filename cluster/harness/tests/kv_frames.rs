//! Hostile connections: oversized frame headers, garbage instead of a
//! handshake, and undecodable frames are refused (the connection closed)
//! while the node keeps serving everyone else.

mod kv_common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use faultline_harness::Harness;
use faultline_kvnode::rpc::{HANDSHAKE_LEN, Identity, PROTOCOL_VERSION, encode_handshake};
use kv_common::*;

/// Whether the server closed the connection (read returns 0 or an error).
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // the server's handshake bytes
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

fn connect_with_handshake(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&encode_handshake(Identity::Client(99), PROTOCOL_VERSION))
        .unwrap();
    let mut theirs = [0u8; HANDSHAKE_LEN];
    s.read_exact(&mut theirs).unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_garbage_frames_are_refused_while_the_node_serves() {
    let g = start(3, &["--max-frame-size", "65536"], &[]);
    let leader = g.leader().await;
    let mut c = g.client();
    ok(&mut c, put("a", "1")).await;
    let addr = g.h.addresses()[&leader].clone();

    let hostile = tokio::task::spawn_blocking(move || {
        // 1. A frame header announcing 4 GiB.
        let mut s = connect_with_handshake(&addr);
        s.write_all(&u32::MAX.to_be_bytes()).unwrap();
        assert!(closed_by_server(&mut s), "oversized frame");
        // 2. Just over the configured maximum.
        let mut s = connect_with_handshake(&addr);
        s.write_all(&65537u32.to_be_bytes()).unwrap();
        assert!(closed_by_server(&mut s), "frame over --max-frame-size");
        // 3. Garbage instead of a handshake.
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert!(closed_by_server(&mut s), "garbage handshake");
        // 4. A well-framed body that is not a frame.
        let mut s = connect_with_handshake(&addr);
        let body = [0xffu8; 32];
        s.write_all(&(body.len() as u32).to_be_bytes()).unwrap();
        s.write_all(&body).unwrap();
        assert!(closed_by_server(&mut s), "undecodable frame");
    });
    hostile.await.unwrap();

    // The node still serves, as leader, and its process is alive.
    ok(&mut c, append("a", "2")).await;
    assert_eq!(read(&mut c, "a").await.as_deref(), Some("12"));
    let s = g.h.status(leader, Duration::from_secs(1)).await.unwrap();
    assert_eq!(s.role, "leader");
}
