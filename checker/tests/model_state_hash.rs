//! The model state's `Hash`/`Eq` cover every field that matters: changing
//! any single one (a server's vote, a log entry, its disk, a message in
//! flight, a counter, the ghost history, the clients) gives a state that
//! compares and hashes differently, so the checker never merges them.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::Arc;

use faultline_checker::raft_model::{ModelState, RaftModel, RaftModelOptions};
use faultline_raft::{Entry, EntryKind, Message, MessageBody, Role};
use stateright::Model;

fn fp(s: &ModelState) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(s)
}

/// A state with a leader, a committed value and messages in flight.
fn busy_state() -> (RaftModel, ModelState) {
    let model = RaftModel::new(RaftModelOptions {
        max_log: 3,
        crashes: 1,
        reads: 1,
        ..Default::default()
    })
    .unwrap();
    let mut s = model.init_state();
    // Take the first enabled action until n1 leads and a value is in.
    for _ in 0..40 {
        let mut actions = Vec::new();
        model.actions(&s, &mut actions);
        let leader = s.servers.iter().any(|x| x.core.role() == Role::Leader);
        let pick = actions
            .iter()
            .position(|a| {
                matches!(a, faultline_checker::raft_model::Action::Propose(..)) || !leader
            })
            .unwrap_or(0);
        s = model.next_state(&s, actions[pick].clone()).unwrap();
        if s.proposals == 1 && !s.network.is_empty() {
            break;
        }
    }
    assert!(s.proposals == 1 && !s.network.is_empty(), "{s:?}");
    (model, s)
}

fn assert_differs(base: &ModelState, changed: &ModelState, what: &str) {
    assert_ne!(base, changed, "{what}: states compare equal");
    assert_ne!(fp(base), fp(changed), "{what}: states hash equal");
}

#[test]
fn every_field_takes_part_in_hash_and_eq() {
    let (model, base) = busy_state();
    assert_eq!(base, base.clone());
    assert_eq!(fp(&base), fp(&base.clone()));

    // A server's core: a vote (through a restart from a changed disk).
    let leader = base
        .servers
        .iter()
        .position(|x| x.core.role() == Role::Leader)
        .unwrap();
    let mut s = base.clone();
    let server = Arc::make_mut(&mut s.servers[leader]);
    let mut disk = server.disk.clone();
    disk.hard_state.vote = None;
    let config = model.options().core_config(server.core.id());
    server.core = faultline_raft::RawNode::new(config, disk.persisted()).unwrap();
    assert_differs(&base, &s, "a server's core");

    // A log entry on disk.
    let mut s = base.clone();
    Arc::make_mut(&mut s.servers[leader]).disk.entries[0].term += 1;
    assert_differs(&base, &s, "a log entry on disk");

    // The disk's hard state (vote).
    let mut s = base.clone();
    Arc::make_mut(&mut s.servers[leader]).disk.hard_state.vote = None;
    assert_differs(&base, &s, "a vote on disk");

    // The disk's extra entry.
    let mut s = base.clone();
    Arc::make_mut(&mut s.servers[leader])
        .disk
        .entries
        .push(Entry {
            term: 1,
            index: 9,
            kind: EntryKind::Noop,
            data: vec![],
        });
    assert_differs(&base, &s, "an extra entry on disk");

    // A message in flight: one removed, one added.
    let mut s = base.clone();
    let m = s.network.iter().next().unwrap().clone();
    s.network.remove(&m);
    assert_differs(&base, &s, "a message removed");
    let mut s = base.clone();
    s.network.send(Message {
        from: 2,
        to: 1,
        term: 1,
        body: MessageBody::HeartbeatResponse { ctx: None },
    });
    assert_differs(&base, &s, "a message added");

    // Counters.
    for (what, f) in [
        (
            "crashes",
            (|s: &mut ModelState| s.crashes += 1) as fn(&mut ModelState),
        ),
        ("proposals", |s| s.proposals += 1),
        ("reads", |s| s.reads += 1),
        ("heartbeats", |s| s.heartbeats += 1),
        ("elections", |s| s.elections += 1),
    ] {
        let mut s = base.clone();
        f(&mut s);
        assert_differs(&base, &s, what);
    }

    // Ghost history.
    let mut s = base.clone();
    let _ = Arc::make_mut(&mut s.ghost).leaders.elected(9, 1);
    assert_differs(&base, &s, "ghost leaders");
    let mut s = base.clone();
    Arc::make_mut(&mut s.ghost).committed_after_crash = true;
    assert_differs(&base, &s, "ghost committed-after-crash");
    let mut s = base.clone();
    Arc::make_mut(&mut s.ghost).read_returned_value = true;
    assert_differs(&base, &s, "ghost read-returned-value");

    // Clients.
    let mut s = base.clone();
    Arc::make_mut(&mut s.clients).invoke_read(1, 1);
    assert_differs(&base, &s, "a client read");
    let mut s = base.clone();
    Arc::make_mut(&mut s.clients).pending.clear();
    assert_differs(&base, &s, "a pending client operation");
}

#[test]
fn the_same_steps_give_the_same_state() {
    let (model, a) = busy_state();
    let (_, b) = busy_state();
    assert_eq!(a, b);
    assert_eq!(fp(&a), fp(&b));
    let mut actions = Vec::new();
    model.actions(&a, &mut actions);
    assert!(!actions.is_empty());
}
