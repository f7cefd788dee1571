//! Concurrent clients against a real group while its leader is killed, with
//! direct assertions on the final state: every acknowledged append is present
//! exactly once, appends whose outcome is unknown at most once, failed ones
//! never, and each client's acknowledged appends appear in the order it made
//! them (each client has one operation outstanding at a time).

mod kv_common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use faultline_harness::Harness;
use faultline_kvnode::client::{ClientOptions, Outcome};
use kv_common::*;

const CLIENTS: usize = 8;
const KEYS: usize = 3;

#[derive(Debug, Default)]
struct Record {
    /// (key, token) of acknowledged appends, in acknowledgement order.
    acked: Vec<(String, String)>,
    unknown: Vec<String>,
    failed: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_survive_a_leader_crash_exactly_once_in_order() {
    let mut g = start(3, &["--snapshot-entries", "200"], &[]);
    let old = g.leader().await;
    let opts = ClientOptions {
        op_deadline: Duration::from_secs(3),
        attempt_timeout: Duration::from_millis(500),
        ..ClientOptions::default()
    };
    let until = Instant::now() + Duration::from_millis(2500);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let mut client = g.client_with(opts.clone());
        tasks.push(tokio::spawn(async move {
            let mut rec = Record::default();
            let mut n = 0;
            while Instant::now() < until {
                let key = format!("list{}", n % KEYS);
                let token = format!("c{c}n{n};");
                match client.execute(append(&key, &token)).await {
                    Outcome::Ok { .. } => rec.acked.push((key, token)),
                    Outcome::Indeterminate(_) => rec.unknown.push(token),
                    Outcome::Fail(_) => rec.failed.push(token),
                }
                n += 1;
            }
            rec
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    g.h.kill(old).unwrap();
    let mut records = Vec::new();
    for t in tasks {
        records.push(t.await.unwrap());
    }
    g.h.restart(old).unwrap();
    g.leader().await;
    let mut reader = g.client();
    let mut finals = HashMap::new();
    for k in 0..KEYS {
        let key = format!("list{k}");
        finals.insert(
            key.clone(),
            read(&mut reader, &key).await.unwrap_or_default(),
        );
    }
    let acked: usize = records.iter().map(|r| r.acked.len()).sum();
    assert!(
        acked > 50,
        "too little progress to mean anything: {acked} acks"
    );
    for rec in &records {
        let mut last_pos: HashMap<&str, usize> = HashMap::new();
        for (key, token) in &rec.acked {
            let value = &finals[key];
            assert_eq!(
                value.matches(token.as_str()).count(),
                1,
                "acked {token} in {key}"
            );
            let pos = value.find(token.as_str()).unwrap();
            if let Some(prev) = last_pos.insert(key, pos) {
                assert!(
                    prev < pos,
                    "{token} applied before an earlier ack of its client"
                );
            }
        }
        for token in &rec.unknown {
            let n: usize = finals
                .values()
                .map(|v| v.matches(token.as_str()).count())
                .sum();
            assert!(n <= 1, "unknown {token} applied {n} times");
        }
        for token in &rec.failed {
            let n: usize = finals
                .values()
                .map(|v| v.matches(token.as_str()).count())
                .sum();
            assert_eq!(n, 0, "failed {token} applied");
        }
    }
    // Nothing but the clients' tokens is in the lists.
    let total_tokens: usize = finals.values().map(|v| v.matches(';').count()).sum();
    let possible: usize = records
        .iter()
        .map(|r| r.acked.len() + r.unknown.len())
        .sum();
    assert!(total_tokens >= acked && total_tokens <= possible);
}
