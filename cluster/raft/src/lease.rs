//! Leader leases (off by default): a leader that heard from a quorum within
//! the last lease period serves reads from its own state, without the
//! heartbeat round of ReadIndex.
//!
//! Time is the host's ticks: the lease is measured on the number of `tick()`
//! calls, so the host decides which clock runs it (kvnode: a monotonic
//! clock, caught up before every read; the simulator: per-node virtual clock
//! rates). The core stays free of I/O.
//!
//! Why it is safe, with clock rates within `1 ± ρ` of true time:
//! - every heartbeat of a lease leader is one *round* with its own ctx
//!   (a pending read's ctx, or a reserved lease ctx) and the tick it was
//!   sent at; when a quorum (the leader included) has answered a round sent
//!   at tick `s`, the lease runs until `s + lease_ticks`, on the leader's
//!   ticks;
//! - a node refuses (pre-)votes, and does not campaign, until
//!   `election_tick` of its own ticks have passed since it last heard from
//!   a leader (a node that just started counts as having just heard: it may
//!   have acknowledged a round before it crashed). Each node of that quorum
//!   heard the round at or after `s`, so no new leader exists before
//!   `election_tick - 1` of its ticks (one for the tick phase) after `s`;
//! - `lease_ticks = floor((election_tick - 1) · (1 − ρ) / (1 + ρ)) − 1`
//!   (one more tick for the leader's own tick phase) keeps the lease inside
//!   that window however the two clocks drift within the bound;
//! - a new leader serves lease reads only once it committed an entry of its
//!   term and a quorum answered one of its rounds: its lease starts after
//!   the votes, so it never overlaps the previous leader's.
//!
//! Planted bug `lease-no-drift-margin`: `lease_ticks = election_tick`, so a
//! leader whose clock runs slow keeps serving after a new leader was elected.

use serde::{Deserialize, Serialize};
use tracing::trace;

use crate::types::NodeId;

/// How the leader serves `read_index`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReadMode {
    /// Every read waits for a heartbeat quorum (Raft thesis §6.4).
    #[default]
    ReadIndex,
    /// Reads inside a valid leader lease are served at once; the others fall
    /// back to a ReadIndex round (which also renews the lease).
    Lease,
}

impl ReadMode {
    pub fn name(self) -> &'static str {
        match self {
            ReadMode::ReadIndex => "read-index",
            ReadMode::Lease => "lease",
        }
    }
}

impl std::fmt::Display for ReadMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown read mode name.
#[derive(Debug, thiserror::Error)]
#[error("unknown read mode {0:?}; known: read-index, lease")]
pub struct UnknownReadMode(pub String);

impl std::str::FromStr for ReadMode {
    type Err = UnknownReadMode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read-index" => Ok(ReadMode::ReadIndex),
            "lease" => Ok(ReadMode::Lease),
            _ => Err(UnknownReadMode(s.to_string())),
        }
    }
}

/// The lease length, in ticks, for an election timeout and a clock drift
/// bound in percent (`None`: the bound leaves no room for a lease). With
/// `no_drift_margin` (a planted bug) it is the full election timeout.
pub fn lease_ticks(election_tick: u32, max_drift_pct: u32, no_drift_margin: bool) -> Option<u32> {
    if no_drift_margin {
        return Some(election_tick);
    }
    if max_drift_pct >= 100 {
        return None;
    }
    let num = u64::from(election_tick.saturating_sub(1)) * u64::from(100 - max_drift_pct);
    let ticks = num / u64::from(100 + max_drift_pct);
    let ticks = ticks.saturating_sub(1) as u32;
    (ticks > 0).then_some(ticks)
}

/// The first bytes of the ctx of a heartbeat round that carries no read.
/// Applications must not use read ctxs of `LEASE_CTX_LEN` bytes starting
/// with it.
pub const LEASE_CTX_PREFIX: [u8; 2] = [0xFE, b'L'];
/// Length of a lease round's ctx: the prefix and a big-endian round number.
pub const LEASE_CTX_LEN: usize = 10;

/// One heartbeat round of a lease leader.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Round {
    pub ctx: Vec<u8>,
    /// The leader's tick count when the round was first sent.
    pub sent_at: u64,
    /// Who answered it (the leader included), sorted.
    pub acks: Vec<NodeId>,
}

/// A node's lease clock and, when leader, its lease.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Lease {
    /// Lease length in ticks.
    pub ticks: u32,
    /// Ticks since this node started.
    pub now: u64,
    /// When this node last heard from a leader (its start counts).
    pub heard_at: u64,
    /// Leader: the lease runs while `now < expires`.
    pub expires: u64,
    /// Leader: rounds that may still extend the lease, oldest first.
    pub rounds: Vec<Round>,
    /// Leader: the number of the next lease-only round.
    pub next_round: u64,
}

impl Lease {
    pub fn new(ticks: u32) -> Lease {
        Lease {
            ticks,
            now: 0,
            heard_at: 0,
            expires: 0,
            rounds: Vec::new(),
            next_round: 0,
        }
    }

    /// One tick: advance the clock, forget rounds too old to matter.
    pub fn tick(&mut self) {
        self.now += 1;
        let (now, ticks) = (self.now, u64::from(self.ticks));
        self.rounds.retain(|r| r.sent_at + ticks > now);
    }

    /// Role change: a new term or role has no lease and no rounds.
    pub fn reset(&mut self) {
        self.expires = 0;
        self.rounds.clear();
    }

    /// Whether votes must be refused: fewer than `election_tick` ticks since
    /// this node last heard from a leader (or started).
    pub fn guards_votes(&self, election_tick: u32) -> bool {
        self.now - self.heard_at < u64::from(election_tick)
    }

    pub fn heard_from_leader(&mut self) {
        self.heard_at = self.now;
    }

    /// Leader: whether the lease runs now.
    pub fn valid(&self) -> bool {
        self.now < self.expires
    }

    /// Leader: the ctx for the next heartbeat round: the newest pending
    /// read's, or a fresh lease-only one; the round is recorded (a ctx sent
    /// again keeps its first send tick, which is the safe one).
    pub fn start_round(&mut self, read_ctx: Option<&[u8]>, leader: NodeId) -> Vec<u8> {
        let ctx = match read_ctx {
            Some(c) => c.to_vec(),
            None => {
                let mut c = LEASE_CTX_PREFIX.to_vec();
                c.extend_from_slice(&self.next_round.to_be_bytes());
                self.next_round += 1;
                c
            }
        };
        if !self.rounds.iter().any(|r| r.ctx == ctx) {
            self.rounds.push(Round {
                ctx: ctx.clone(),
                sent_at: self.now,
                acks: vec![leader],
            });
        }
        ctx
    }

    /// Leader: `from` answered the round `ctx`. Returns whether a quorum
    /// has answered it, in which case the lease is extended.
    pub fn ack(&mut self, from: NodeId, ctx: &[u8], quorum: usize, id: NodeId, term: u64) -> bool {
        let Some(pos) = self.rounds.iter().position(|r| r.ctx == ctx) else {
            return false;
        };
        let round = &mut self.rounds[pos];
        if let Err(at) = round.acks.binary_search(&from) {
            round.acks.insert(at, from);
        }
        if round.acks.len() < quorum {
            return false;
        }
        let until = round.sent_at + u64::from(self.ticks);
        if until > self.expires {
            self.expires = until;
            trace!(node = id, term, now = self.now, until, "lease extended");
        }
        // Older rounds cannot extend it further.
        self.rounds.drain(..=pos);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_is_shorter_than_the_election_timeout_by_the_drift_margin() {
        // kvnode: 20 ticks; 20 % drift: 19 * 80 / 120 = 12.6 -> 12, minus one.
        assert_eq!(lease_ticks(20, 20, false), Some(11));
        assert_eq!(lease_ticks(20, 0, false), Some(18));
        assert_eq!(lease_ticks(20, 20, true), Some(20));
        assert_eq!(lease_ticks(10, 10, false), Some(6));
        assert_eq!(lease_ticks(3, 50, false), None);
        assert_eq!(lease_ticks(20, 100, false), None);
        // However the rates drift within the bound, the lease on the slowest
        // leader clock ends before the fastest follower's vote guard.
        for e in 3..60u32 {
            for d in 0..60u32 {
                if let Some(l) = lease_ticks(e, d, false) {
                    let slow = 1.0 - f64::from(d) / 100.0;
                    let fast = 1.0 + f64::from(d) / 100.0;
                    assert!(f64::from(l + 1) / slow <= f64::from(e - 1) / fast + 1e-9);
                }
            }
        }
    }

    #[test]
    fn a_quorum_answer_extends_the_lease_from_the_send_tick() {
        let mut l = Lease::new(5);
        for _ in 0..3 {
            l.tick();
        }
        let a = l.start_round(None, 1);
        l.tick();
        let b = l.start_round(Some(b"read"), 1);
        assert_eq!(l.start_round(Some(b"read"), 1), b, "same ctx, same round");
        assert!(!l.valid());
        assert!(l.ack(2, &b, 2, 1, 1));
        assert_eq!(l.expires, 4 + 5);
        assert!(l.valid());
        assert!(!l.ack(3, &a, 2, 1, 1), "older round dropped");
        for _ in 0..5 {
            l.tick();
        }
        assert!(!l.valid());
        assert!(l.rounds.is_empty());
    }

    #[test]
    fn votes_are_guarded_after_start_and_after_hearing_a_leader() {
        let mut l = Lease::new(5);
        assert!(l.guards_votes(3));
        for _ in 0..3 {
            l.tick();
        }
        assert!(!l.guards_votes(3));
        l.heard_from_leader();
        assert!(l.guards_votes(3));
    }

    #[test]
    fn read_modes_parse() {
        assert_eq!("lease".parse::<ReadMode>().unwrap(), ReadMode::Lease);
        assert_eq!(
            "read-index".parse::<ReadMode>().unwrap(),
            ReadMode::ReadIndex
        );
        assert!("lazy".parse::<ReadMode>().is_err());
    }
}
