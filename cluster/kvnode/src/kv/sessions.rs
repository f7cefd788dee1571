//! The session table: for each client id, the last sequence number applied
//! and its reply, so a retried write is answered from here instead of being
//! applied twice (exactly-once).
//!
//! Expiry keeps memory bounded and is driven by the log only, so every
//! replica expires the same sessions at the same index:
//! * a session not used for `idle_entries` applied log entries is dropped
//!   (checked each time an entry is applied);
//! * when a new client would take the table past `max_sessions`, the session
//!   whose last use is oldest (lowest log index) is dropped first (LRU).
//!
//! A client whose session expired and then retries an operation that already
//! applied would apply it again; with the defaults that needs a client to stay
//! silent mid-retry for a million log entries or while 10,000 other clients
//! wrote, far beyond any client deadline. All replicas must run with the same
//! two limits (they are kvnode flags with fixed defaults).

use std::collections::{BTreeMap, BTreeSet};

use faultline_raft::Index;
use serde::{Deserialize, Serialize};

use super::command::Reply;

/// Default bound on the number of sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 10_000;
/// Default idle time, in applied log entries, after which a session expires.
pub const DEFAULT_IDLE_ENTRIES: u64 = 1_000_000;

/// One client's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub client_id: u64,
    pub seq: u64,
    pub reply: Reply,
    /// Log index of the last command applied for this client.
    pub last_index: Index,
}

/// What the table says about an incoming (client, seq).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionLookup {
    /// Never applied: apply it.
    New,
    /// The same sequence already applied: this is its reply.
    Duplicate(Reply),
    /// An older sequence than the last applied one: the client has moved on
    /// and nobody waits for this reply.
    Stale { last_seq: u64 },
}

/// The session table with its deterministic expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sessions {
    /// By client id; a `BTreeMap` so snapshots list sessions in one order
    /// on every replica (replicated state never iterates a `HashMap`).
    by_client: BTreeMap<u64, Session>,
    /// (last_index, client_id): the LRU order.
    by_age: BTreeSet<(Index, u64)>,
    max_sessions: usize,
    idle_entries: u64,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::new(DEFAULT_MAX_SESSIONS, DEFAULT_IDLE_ENTRIES)
    }
}

impl Sessions {
    /// A table with at most `max_sessions` (at least 1) sessions, each
    /// expiring after `idle_entries` applied entries without use.
    pub fn new(max_sessions: usize, idle_entries: u64) -> Sessions {
        Sessions {
            by_client: BTreeMap::new(),
            by_age: BTreeSet::new(),
            max_sessions: max_sessions.max(1),
            idle_entries: idle_entries.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.by_client.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_client.is_empty()
    }

    pub fn get(&self, client_id: u64) -> Option<&Session> {
        self.by_client.get(&client_id)
    }

    /// Classify `(client_id, seq)` against the table.
    pub fn lookup(&self, client_id: u64, seq: u64) -> SessionLookup {
        match self.by_client.get(&client_id) {
            None => SessionLookup::New,
            Some(s) if seq > s.seq => SessionLookup::New,
            Some(s) if seq == s.seq => SessionLookup::Duplicate(s.reply.clone()),
            Some(s) => SessionLookup::Stale { last_seq: s.seq },
        }
    }

    /// Record that `(client_id, seq)` applied at `index` with `reply`.
    pub fn record(&mut self, client_id: u64, seq: u64, reply: Reply, index: Index) {
        if let Some(old) = self.by_client.remove(&client_id) {
            self.by_age.remove(&(old.last_index, client_id));
        }
        while self.by_client.len() >= self.max_sessions {
            self.evict_oldest();
        }
        self.by_age.insert((index, client_id));
        self.by_client.insert(
            client_id,
            Session {
                client_id,
                seq,
                reply,
                last_index: index,
            },
        );
    }

    /// Drop sessions idle for `idle_entries` entries as of `index`.
    pub fn expire(&mut self, index: Index) {
        while let Some(&(last, _)) = self.by_age.first() {
            if last.saturating_add(self.idle_entries) > index {
                break;
            }
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((_, client)) = self.by_age.pop_first() {
            self.by_client.remove(&client);
        }
    }

    /// Every session, ordered by client id (for snapshots).
    pub fn to_sorted_vec(&self) -> Vec<Session> {
        self.by_client.values().cloned().collect()
    }

    /// Replace the table's content with `sessions` (from a snapshot).
    pub fn restore(&mut self, sessions: Vec<Session>) {
        self.by_client.clear();
        self.by_age.clear();
        for s in sessions {
            self.by_age.insert((s.last_index, s.client_id));
            self.by_client.insert(s.client_id, s);
        }
        while self.by_client.len() > self.max_sessions {
            self.evict_oldest();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_stale_sequences_are_recognised() {
        let mut s = Sessions::default();
        assert_eq!(s.lookup(1, 1), SessionLookup::New);
        s.record(1, 1, Reply::Done, 10);
        assert_eq!(s.lookup(1, 1), SessionLookup::Duplicate(Reply::Done));
        assert_eq!(s.lookup(1, 2), SessionLookup::New);
        s.record(1, 2, Reply::Value(None), 11);
        assert_eq!(s.lookup(1, 1), SessionLookup::Stale { last_seq: 2 });
    }

    #[test]
    fn count_bound_evicts_least_recently_used() {
        let mut s = Sessions::new(2, 1000);
        s.record(1, 1, Reply::Done, 1);
        s.record(2, 1, Reply::Done, 2);
        s.record(1, 2, Reply::Done, 3); // client 1 is now the most recent
        s.record(3, 1, Reply::Done, 4); // evicts client 2
        assert_eq!(s.len(), 2);
        assert!(s.get(2).is_none());
        assert!(s.get(1).is_some() && s.get(3).is_some());
    }

    #[test]
    fn idle_sessions_expire_by_log_index() {
        let mut s = Sessions::new(100, 10);
        s.record(1, 1, Reply::Done, 1);
        s.record(2, 1, Reply::Done, 5);
        s.expire(10);
        assert!(s.get(1).is_some());
        s.expire(11);
        assert!(s.get(1).is_none());
        assert!(s.get(2).is_some());
        s.expire(15);
        assert!(s.is_empty());
    }

    #[test]
    fn snapshots_list_sessions_by_client_id_whatever_the_order_of_use() {
        let mut a = Sessions::default();
        let mut b = Sessions::default();
        for (i, c) in [9, 3, 7, 1].into_iter().enumerate() {
            a.record(c, 1, Reply::Done, i as u64 + 1);
        }
        for (i, c) in [1, 7, 3, 9].into_iter().enumerate() {
            b.record(c, 1, Reply::Done, i as u64 + 1);
        }
        let ids = |s: &Sessions| {
            s.to_sorted_vec()
                .iter()
                .map(|x| x.client_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), [1, 3, 7, 9]);
        assert_eq!(ids(&b), [1, 3, 7, 9]);
    }
}
