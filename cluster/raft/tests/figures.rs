//! Performance figures (ignored; run with
//! `cargo test -p faultline-raft --release --test figures -- --ignored --nocapture`):
//! the cost of `RawNode::clone()` + hash (what a model checker pays per
//! state) and the throughput of a 5-node in-memory cluster.

// Measuring needs a clock; this is a test, not the core.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

use faultline_raft::{Config, Message, PersistedState, RawNode, Role};

fn cluster(n: u64) -> Vec<RawNode> {
    let peers: Vec<u64> = (1..=n).collect();
    peers
        .iter()
        .map(|id| {
            RawNode::new(
                Config::new(*id, peers.clone(), 7),
                PersistedState::default(),
            )
            .unwrap()
        })
        .collect()
}

/// Handle Readys and deliver messages until quiet; returns the number of
/// messages stepped.
fn stabilize(nodes: &mut [RawNode], queue: &mut VecDeque<Message>) -> u64 {
    let mut steps = 0;
    loop {
        let mut busy = false;
        for n in nodes.iter_mut() {
            if n.has_ready() {
                busy = true;
                let rd = n.ready();
                queue.extend(rd.messages.iter().cloned());
                queue.extend(rd.persisted_messages.iter().cloned());
                n.advance(rd);
            }
        }
        while let Some(m) = queue.pop_front() {
            busy = true;
            steps += 1;
            let to = (m.to - 1) as usize;
            nodes[to].step(m).unwrap();
        }
        if !busy {
            return steps;
        }
    }
}

#[test]
#[ignore = "performance figures"]
fn figures() {
    let mut nodes = cluster(5);
    let mut queue = VecDeque::new();
    nodes[0].campaign();
    stabilize(&mut nodes, &mut queue);
    assert_eq!(nodes[0].role(), Role::Leader);
    for i in 0..50u32 {
        nodes[0].propose(i.to_le_bytes().to_vec()).unwrap();
    }
    stabilize(&mut nodes, &mut queue);

    // Clone + hash of a follower holding a 51-entry log.
    let node = nodes[1].clone();
    let rounds = 200_000;
    let start = Instant::now();
    let mut acc = 0u64;
    for _ in 0..rounds {
        let c = std::hint::black_box(&node).clone();
        let mut h = DefaultHasher::new();
        c.hash(&mut h);
        acc = acc.wrapping_add(h.finish());
    }
    let per = start.elapsed().as_nanos() as f64 / rounds as f64;
    eprintln!(
        "clone+hash of a RawNode with {} entries: {per:.0} ns ({acc:x})",
        node.last_index()
    );

    // Throughput: proposals in batches of 10, each batch committed and
    // applied on all five nodes.
    let start = Instant::now();
    let (mut steps, mut proposals) = (0u64, 0u64);
    while start.elapsed().as_secs_f64() < 2.0 {
        for _ in 0..10 {
            nodes[0].propose(b"v".to_vec()).unwrap();
            proposals += 1;
        }
        steps += stabilize(&mut nodes, &mut queue);
        for n in nodes.iter_mut() {
            n.tick();
        }
        let applied = nodes[0].applied();
        if applied > 1000 {
            for n in nodes.iter_mut() {
                let a = n.applied();
                n.compact(a, Vec::new()).unwrap();
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "5-node cluster: {:.0} messages stepped/s, {:.0} proposals committed/s",
        steps as f64 / secs,
        proposals as f64 / secs
    );
}
