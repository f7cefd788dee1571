//! `faultline serve` serves the store read-only over HTTP: pages and plots
//! with their Content-Type, folders redirected to their slash form, and
//! nothing outside the store.

mod report_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use report_support::{STAMP, TEST, faultline, write_run};

/// The serve process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (status, headers in lower case, body) of a raw HTTP/1.0 request.
fn request(addr: &str, method: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, raw[split + 4..].to_vec())
}

#[test]
fn serves_the_store_and_nothing_else() {
    let root = tempfile::tempdir().unwrap();
    let run = write_run(root.path(), 50, 2);
    std::fs::write(root.path().join("secret.txt"), "do not serve").unwrap();
    let out = faultline(&["report", run.dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1), // the synthetic run is invalid
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "serve",
            "--store",
            run.store.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _server = Server(child);
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"));
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();

    let (status, head, body) = request(&addr, "GET", "/");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"));
    assert!(String::from_utf8_lossy(&body).contains("faultline runs"));

    let (status, _, body) = request(&addr, "GET", "/latest/");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("timeline-canvas"));

    let (status, head, _) = request(&addr, "GET", &format!("/{TEST}/{STAMP}/latency-raw.svg"));
    assert_eq!(status, 200);
    assert!(head.contains("content-type: image/svg+xml"));

    let (status, head, _) = request(&addr, "GET", &format!("/{TEST}/{STAMP}"));
    assert_eq!(status, 301);
    assert!(head.contains(&format!("location: /{TEST}/{STAMP}/").to_ascii_lowercase()));

    for bad in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/latest/../../secret.txt",
    ] {
        let (status, _, body) = request(&addr, "GET", bad);
        assert_eq!(status, 403, "{bad}");
        assert!(!String::from_utf8_lossy(&body).contains("do not serve"));
    }
    assert_eq!(request(&addr, "GET", "/nope.html").0, 404);
    assert_eq!(request(&addr, "POST", "/").0, 405);
}

#[test]
fn a_missing_store_exits_2_with_a_message() {
    let out = faultline(&[
        "serve",
        "--store",
        "/no/such/store",
        "--addr",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/store"));
}
