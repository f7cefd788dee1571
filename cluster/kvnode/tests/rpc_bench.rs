//! RPC request round trips on loopback, printed rather than asserted.
//! Run with:
//! `cargo test -p faultline-kvnode --release --test rpc_bench -- --ignored --nocapture`

use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_kvnode::rpc::{Client, Handler, Identity, RpcConfig, Server};
use faultline_raft::{Message, NodeId};

struct Echo;

impl Handler for Echo {
    fn raft(&self, _from: NodeId, _messages: Vec<Message>) {}
    async fn request(&self, _from: Identity, payload: Vec<u8>) -> Vec<u8> {
        payload
    }
    fn status(&self) -> String {
        "{}".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints figures, run on demand"]
async fn request_round_trips() {
    let server = Server::bind(
        "127.0.0.1:0",
        Identity::Peer(1),
        RpcConfig::default(),
        Arc::new(Echo),
    )
    .await
    .unwrap();
    let client = Client::new(
        server.local_addr().to_string(),
        Identity::Client(1),
        RpcConfig::default(),
    );
    client.connect().await.unwrap();
    for concurrency in [1usize, 32] {
        let start = Instant::now();
        let duration = Duration::from_secs(2);
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let c = client.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while start.elapsed() < duration {
                    c.request(vec![7u8; 64], Duration::from_secs(5))
                        .await
                        .unwrap();
                    n += 1;
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{concurrency:>2} concurrent callers, 64-byte payloads: {:>8.0} requests/s, mean {:.1} us",
            total as f64 / secs,
            secs * 1e6 * concurrency as f64 / total as f64
        );
    }
}
