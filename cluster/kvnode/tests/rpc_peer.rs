//! Peer senders over real TCP: batches arrive whole and in order, the sender
//! reconnects after the receiving node restarts, and a full queue drops.

use std::sync::Arc;
use std::time::Duration;

use faultline_kvnode::rpc::{Handler, Identity, PeerSender, RpcConfig, Server};
use faultline_raft::{Message, MessageBody, NodeId};
use tokio::sync::mpsc;

struct Sink {
    raft: mpsc::UnboundedSender<(NodeId, Vec<Message>)>,
}

impl Handler for Sink {
    fn raft(&self, from: NodeId, messages: Vec<Message>) {
        let _ = self.raft.send((from, messages));
    }
    async fn request(&self, _from: Identity, payload: Vec<u8>) -> Vec<u8> {
        payload
    }
    fn status(&self) -> String {
        "{}".into()
    }
}

fn heartbeat(from: NodeId, to: NodeId, term: u64, commit: u64) -> Message {
    Message {
        from,
        to,
        term,
        body: MessageBody::Heartbeat { commit, ctx: None },
    }
}

async fn node(addr: &str) -> (Server, mpsc::UnboundedReceiver<(NodeId, Vec<Message>)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = Server::bind(
        addr,
        Identity::Peer(2),
        RpcConfig::default(),
        Arc::new(Sink { raft: tx }),
    )
    .await
    .unwrap();
    (server, rx)
}

async fn recv(rx: &mut mpsc::UnboundedReceiver<(NodeId, Vec<Message>)>) -> (NodeId, Vec<Message>) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a batch arrives")
        .expect("channel open")
}

fn fast_backoff() -> RpcConfig {
    RpcConfig {
        backoff_initial: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        ..RpcConfig::default()
    }
}

#[tokio::test]
async fn batches_arrive_whole_and_in_order() {
    let (server, mut rx) = node("127.0.0.1:0").await;
    let sender = PeerSender::spawn(1, 2, server.local_addr().to_string(), fast_backoff());
    for commit in 0..100u64 {
        let batch = vec![
            heartbeat(1, 2, 3, commit),
            heartbeat(1, 2, 3, commit + 1000),
        ];
        assert!(sender.send(batch));
    }
    for commit in 0..100u64 {
        let (from, batch) = recv(&mut rx).await;
        assert_eq!(from, 1);
        assert_eq!(
            batch,
            vec![
                heartbeat(1, 2, 3, commit),
                heartbeat(1, 2, 3, commit + 1000)
            ]
        );
    }
    // An AppendEntries with a payload survives the codec intact.
    let append = Message {
        from: 1,
        to: 2,
        term: 4,
        body: MessageBody::AppendEntries {
            prev_log_index: 9,
            prev_log_term: 3,
            entries: vec![faultline_raft::Entry {
                term: 4,
                index: 10,
                kind: faultline_raft::EntryKind::Normal,
                data: vec![1, 2, 3],
            }],
            commit: 9,
        },
    };
    assert!(sender.send(vec![append.clone()]));
    assert_eq!(recv(&mut rx).await.1, vec![append]);
}

#[tokio::test]
async fn sender_reconnects_after_the_peer_restarts() {
    let (server, mut rx) = node("127.0.0.1:0").await;
    let addr = server.local_addr().to_string();
    let sender = PeerSender::spawn(1, 2, addr.clone(), fast_backoff());
    assert!(sender.send(vec![heartbeat(1, 2, 1, 1)]));
    assert_eq!(recv(&mut rx).await.1, vec![heartbeat(1, 2, 1, 1)]);
    server.shutdown().await;
    drop(rx);

    let (_server, mut rx) = node(&addr).await;
    // Raft keeps sending heartbeats; some sent around the restart may be lost.
    let mut commit = 2;
    let got = loop {
        assert!(sender.send(vec![heartbeat(1, 2, 1, commit)]));
        match tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
            Ok(Some((_, batch))) => break batch,
            _ => commit += 1,
        }
        assert!(commit < 500, "the sender never reconnected");
    };
    assert_eq!(got[0].from, 1);
    assert!(
        sender
            .counters()
            .connects
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 2
    );
}

#[tokio::test]
async fn a_full_queue_drops_batches() {
    // Nothing listens on this port: the sender stays in backoff.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = RpcConfig {
        peer_queue: 4,
        ..fast_backoff()
    };
    let sender = PeerSender::spawn(1, 2, port.to_string(), config);
    let accepted = (0..10)
        .filter(|&i| sender.send(vec![heartbeat(1, 2, 1, i)]))
        .count();
    assert_eq!(accepted, 4);
    let c = sender.counters();
    assert_eq!(c.dropped.load(std::sync::atomic::Ordering::Relaxed), 6);
    assert_eq!(c.queued.load(std::sync::atomic::Ordering::Relaxed), 4);
}
