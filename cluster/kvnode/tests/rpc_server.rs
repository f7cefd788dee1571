//! RPC over real TCP on 127.0.0.1: requests and status round trips, timeouts,
//! and malformed connections being closed while the server keeps serving.

use std::sync::Arc;
use std::time::Duration;

use faultline_kvnode::rpc::{
    Client, Handler, Identity, PROTOCOL_VERSION, RpcConfig, RpcError, Server, encode_handshake,
};
use faultline_raft::{Message, NodeId};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const T: Duration = Duration::from_secs(5);

struct Echo {
    raft: mpsc::UnboundedSender<(NodeId, Vec<Message>)>,
}

impl Handler for Echo {
    fn raft(&self, from: NodeId, messages: Vec<Message>) {
        let _ = self.raft.send((from, messages));
    }
    async fn request(&self, from: Identity, payload: Vec<u8>) -> Vec<u8> {
        if payload == b"never" {
            std::future::pending::<()>().await;
        }
        if let Some(ms) = payload.strip_prefix(b"sleep ") {
            let ms: u64 = std::str::from_utf8(ms).unwrap().parse().unwrap();
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let mut out = format!("{from}: ").into_bytes();
        out.extend(payload);
        out
    }
    fn status(&self) -> String {
        r#"{"id":1,"role":"leader"}"#.to_string()
    }
}

async fn start(config: RpcConfig) -> (Server, mpsc::UnboundedReceiver<(NodeId, Vec<Message>)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = Server::bind(
        "127.0.0.1:0",
        Identity::Peer(1),
        config,
        Arc::new(Echo { raft: tx }),
    )
    .await
    .unwrap();
    (server, rx)
}

/// Connect and complete a valid handshake by hand.
async fn raw_connection(server: &Server) -> TcpStream {
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    s.write_all(&encode_handshake(Identity::Client(9), PROTOCOL_VERSION))
        .await
        .unwrap();
    let mut theirs = [0u8; 14];
    s.read_exact(&mut theirs).await.unwrap();
    assert_eq!(
        theirs,
        encode_handshake(Identity::Peer(1), PROTOCOL_VERSION)
    );
    s
}

/// Wait for the server to close `s` (EOF or reset), draining any bytes.
async fn closed_by_server(mut s: TcpStream) {
    let mut buf = [0u8; 64];
    let closed = tokio::time::timeout(T, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "server did not close the connection");
}

async fn still_serves(server: &Server) {
    let client = Client::new(
        server.local_addr().to_string(),
        Identity::Client(2),
        RpcConfig::default(),
    );
    assert_eq!(
        client.request(b"ping".to_vec(), T).await.unwrap(),
        b"client 2: ping"
    );
}

#[tokio::test]
async fn request_response_and_status_round_trip() {
    let (server, _rx) = start(RpcConfig::default()).await;
    let client = Client::new(
        server.local_addr().to_string(),
        Identity::Client(7),
        RpcConfig::default(),
    );
    assert_eq!(
        client.request(b"hello".to_vec(), T).await.unwrap(),
        b"client 7: hello"
    );
    assert_eq!(
        client.status(T).await.unwrap(),
        r#"{"id":1,"role":"leader"}"#
    );

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Put {
        key: String,
        value: u64,
    }
    // Typed payloads through the same codec: the echo prefixes raw bytes, so
    // decode what the server saw from the request we encoded.
    let put = Put {
        key: "k1".into(),
        value: 42,
    };
    let payload = faultline_kvnode::rpc::encode_payload(&put).unwrap();
    let echoed = client.request(payload.clone(), T).await.unwrap();
    let back: Put = faultline_kvnode::rpc::decode_payload(&echoed[b"client 7: ".len()..]).unwrap();
    assert_eq!(back, put);
    assert!(faultline_kvnode::rpc::decode_payload::<Put>(&[0xff; 3]).is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn concurrent_requests_on_one_connection_match_their_ids() {
    let (server, _rx) = start(RpcConfig::default()).await;
    let client = Client::new(
        server.local_addr().to_string(),
        Identity::Client(3),
        RpcConfig::default(),
    );
    let mut calls = Vec::new();
    for i in 0..50u64 {
        let c = client.clone();
        // Later requests finish first: responses arrive out of order.
        let ms = (50 - i) % 7;
        calls.push(tokio::spawn(async move {
            let got = c
                .request(format!("sleep {ms}").into_bytes(), T)
                .await
                .unwrap();
            (ms, got)
        }));
    }
    for call in calls {
        let (ms, got) = call.await.unwrap();
        assert_eq!(got, format!("client 3: sleep {ms}").into_bytes());
    }
}

#[tokio::test]
async fn timeout_fires_on_a_silent_server() {
    // A listener that accepts and never says anything (not even a handshake).
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let client = Client::new(addr.to_string(), Identity::Client(1), RpcConfig::default());
    let err = client
        .request(b"x".to_vec(), Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Timeout(_)), "{err}");
    hold.abort();

    // A real server whose handler never answers: the call times out, and the
    // connection stays usable for the next call.
    let (server, _rx) = start(RpcConfig::default()).await;
    let client = Client::new(
        server.local_addr().to_string(),
        Identity::Client(4),
        RpcConfig::default(),
    );
    let err = client
        .request(b"never".to_vec(), Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Timeout(_)), "{err}");
    assert_eq!(
        client.request(b"after".to_vec(), T).await.unwrap(),
        b"client 4: after"
    );
}

#[tokio::test]
async fn oversized_frame_is_refused_before_allocation_and_server_keeps_serving() {
    let (server, _rx) = start(RpcConfig::default()).await;
    let mut s = raw_connection(&server).await;
    // Announce a 4 GiB frame and send nothing else: a server that tried to
    // allocate or read it would wait for the body instead of closing.
    s.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    closed_by_server(s).await;
    still_serves(&server).await;

    // Just over a configured small limit is refused too, both ways.
    let small = RpcConfig {
        max_frame_size: 1024,
        ..RpcConfig::default()
    };
    let (server, _rx) = start(small.clone()).await;
    let mut s = raw_connection(&server).await;
    s.write_all(&1025u32.to_be_bytes()).await.unwrap();
    closed_by_server(s).await;
    let client = Client::new(server.local_addr().to_string(), Identity::Client(5), small);
    let err = client.request(vec![0u8; 2000], T).await.unwrap_err();
    assert!(
        matches!(err, RpcError::FrameTooLarge { max: 1024, .. }),
        "{err}"
    );
    assert_eq!(
        client.request(vec![b'a'; 900], T).await.unwrap().len(),
        900 + 10
    );
}

#[tokio::test]
async fn garbage_and_bad_handshakes_are_refused() {
    let (server, _rx) = start(RpcConfig::default()).await;

    // Not a faultline client at all.
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    closed_by_server(s).await;

    // The right magic but another protocol version.
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    s.write_all(&encode_handshake(Identity::Client(1), PROTOCOL_VERSION + 1))
        .await
        .unwrap();
    closed_by_server(s).await;

    // A good handshake, then a frame that does not decode.
    let mut s = raw_connection(&server).await;
    s.write_all(&[0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff])
        .await
        .unwrap();
    closed_by_server(s).await;

    // A zero-length frame.
    let mut s = raw_connection(&server).await;
    s.write_all(&[0, 0, 0, 0]).await.unwrap();
    closed_by_server(s).await;

    still_serves(&server).await;
}

#[tokio::test]
async fn client_refuses_a_server_of_another_version() {
    let fake = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = fake.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = fake.accept().await.unwrap();
        let _ = s
            .write_all(&encode_handshake(Identity::Peer(1), PROTOCOL_VERSION + 3))
            .await;
        let mut sink = [0u8; 64];
        while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
    });
    let client = Client::new(addr.to_string(), Identity::Client(1), RpcConfig::default());
    let err = client.connect().await.unwrap_err();
    assert!(matches!(err, RpcError::Handshake(_)), "{err}");
    assert!(err.to_string().contains("protocol version"), "{err}");
}

#[tokio::test]
async fn clients_may_not_send_raft_messages() {
    let (server, mut rx) = start(RpcConfig::default()).await;
    let mut s = raw_connection(&server).await; // identifies as a client
    let frame =
        faultline_kvnode::rpc::encode_payload(&faultline_kvnode::rpc::Frame::Raft(vec![])).unwrap();
    let mut bytes = (frame.len() as u32).to_be_bytes().to_vec();
    bytes.extend(frame);
    s.write_all(&bytes).await.unwrap();
    closed_by_server(s).await;
    assert!(rx.try_recv().is_err(), "nothing was delivered");
    still_serves(&server).await;
}

#[tokio::test]
async fn client_reconnects_after_the_server_restarts() {
    let (server, _rx) = start(RpcConfig::default()).await;
    let addr = server.local_addr();
    let client = Client::new(addr.to_string(), Identity::Client(6), RpcConfig::default());
    assert_eq!(
        client.request(b"one".to_vec(), T).await.unwrap(),
        b"client 6: one"
    );
    server.shutdown().await;
    // While it is down calls fail (closed connection or refused connect).
    assert!(client.request(b"down".to_vec(), T).await.is_err());
    let (tx, _rx2) = mpsc::unbounded_channel();
    let _server = Server::bind(
        addr,
        Identity::Peer(1),
        RpcConfig::default(),
        Arc::new(Echo { raft: tx }),
    )
    .await
    .unwrap();
    assert_eq!(
        client.request(b"two".to_vec(), T).await.unwrap(),
        b"client 6: two"
    );
}
