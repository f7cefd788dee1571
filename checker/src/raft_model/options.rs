//! The bounds and switches of one model-checking run (`RaftModelOptions`),
//! their defaults, and their validation: bad bounds are a clear error, never
//! a panic deep inside the checker.

use faultline_raft::{BugSet, Config, NodeId};
use serde::Serialize;

use crate::raft_model::error::ModelError;

/// Bounds and fault switches of the Raft model. `Default` is the default
/// configuration of `faultline model raft`: 3 servers, one value, terms
/// <= 2, logs <= 2 entries, no crashes, no reads (the bounds at which TLC
/// does not finish on `raft.tla`); it finishes in well under a minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RaftModelOptions {
    /// Number of servers that start as voters (ids 1..=servers).
    pub servers: usize,
    /// Servers that exist as processes but start outside the group (ids
    /// after the voters): a leader may add them (`conf_changes`). They
    /// start like a server joining a group: with the group's initial
    /// voters as their configuration, which does not include them.
    pub spares: usize,
    /// Membership changes (single-server `AddVoter` / `Remove`, proposed by
    /// a leader) allowed in one behaviour. 0 (the default) leaves the model
    /// exactly as without membership changes.
    pub conf_changes: u8,
    /// No node campaigns beyond this term.
    pub max_term: u64,
    /// States where any log holds more entries than this are not explored
    /// (entries include the Noop each new leader appends).
    pub max_log: usize,
    /// Crash-and-restart events allowed in one behaviour.
    pub crashes: u8,
    /// Client writes (each a distinct value) allowed in one behaviour.
    pub proposals: u8,
    /// Client ReadIndex reads allowed in one behaviour.
    pub reads: u8,
    /// Leader heartbeat timeouts allowed in one behaviour. Without loss a
    /// leader needs no heartbeat to make progress (appends carry the
    /// commit index, and a ReadIndex read starts its own heartbeat round),
    /// so the default is 0; with loss a heartbeat is what makes a leader
    /// resend what was lost, so the CLI's `--lossy` defaults it to
    /// `LOSSY_HEARTBEATS`.
    pub heartbeats: u8,
    /// Election timeouts (campaigns) allowed in one behaviour; None: only
    /// `max_term` bounds them. Like the crash and proposal budgets, a
    /// budget of campaigns keeps the elections a counterexample needs and
    /// drops the many behaviours with more, rival campaigns (the figure8
    /// bounds).
    pub elections: Option<u8>,
    /// The network may lose any message.
    pub lossy: bool,
    /// The network may deliver a message and keep a copy in flight.
    pub duplicating: bool,
    /// The cores run with PreVote (a campaign first asks whether it could
    /// win, without raising terms). A failed pre-campaign leaves the term
    /// as it was, so terms no longer bound campaigns: runs with PreVote
    /// need an `elections` budget (the CLI gives `max_term + 1`).
    /// CheckQuorum stays off: its leader lease needs followers' election
    /// timers to run, and the model fires timeouts as whole actions (a
    /// follower's lease would never expire).
    pub pre_vote: bool,
    /// Planted bugs the cores run with.
    pub bugs: BugSet,
    /// Symmetry reduction over server ids: explore one state per class of
    /// states that differ only by server names (see `symmetry`).
    pub symmetry: bool,
    /// Remove messages that can only be ignored (see `dead_messages`).
    pub collect_dead_messages: bool,
}

impl Default for RaftModelOptions {
    fn default() -> Self {
        RaftModelOptions {
            servers: 3,
            spares: 0,
            conf_changes: 0,
            max_term: 2,
            max_log: 2,
            crashes: 0,
            proposals: 1,
            reads: 0,
            heartbeats: 0,
            elections: None,
            lossy: false,
            duplicating: false,
            pre_vote: false,
            bugs: BugSet::new(),
            symmetry: true,
            collect_dead_messages: true,
        }
    }
}

/// Largest accepted number of servers: the state space grows steeply with
/// it, and ids must fit the renderer's `n1..n9`.
pub const MAX_SERVERS: usize = 9;

impl RaftModelOptions {
    /// Refuse bounds the model cannot work with.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |what: String| Err(ModelError::BadBound(what));
        if self.servers == 0 || self.servers > MAX_SERVERS {
            return bad(format!(
                "--servers must be between 1 and {MAX_SERVERS}, got {}",
                self.servers
            ));
        }
        if self.servers + self.spares > MAX_SERVERS {
            return bad(format!(
                "--servers plus --spares must be at most {MAX_SERVERS}, got {}",
                self.servers + self.spares
            ));
        }
        if self.spares > 0 && self.conf_changes == 0 {
            return bad(format!(
                "--spares {} needs --conf-changes N (a spare joins only through a membership change)",
                self.spares
            ));
        }
        if self.max_term == 0 || self.max_term > 100 {
            return bad(format!(
                "--max-term must be between 1 and 100, got {}",
                self.max_term
            ));
        }
        if self.max_log == 0 || self.max_log > 100 {
            return bad(format!(
                "--max-log must be between 1 and 100, got {}",
                self.max_log
            ));
        }
        if self.pre_vote && self.elections.is_none() {
            return bad(
                "--prevote needs an --elections budget (a failed pre-campaign does not raise the term, so terms do not bound campaigns)"
                    .to_string(),
            );
        }
        if u16::from(self.proposals) + u16::from(self.reads) > 100 {
            return bad(format!(
                "--proposals plus --reads must be at most 100, got {}",
                u16::from(self.proposals) + u16::from(self.reads)
            ));
        }
        Ok(())
    }

    /// The ids of every server of the model, voters and spares.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + use<> {
        1..=(self.servers + self.spares) as NodeId
    }

    /// The ids of the initial voters, 1..=servers.
    pub fn voter_ids(&self) -> impl Iterator<Item = NodeId> + use<> {
        1..=self.servers as NodeId
    }

    /// The core configuration of server `id` in the model: classic Raft,
    /// or with PreVote when `pre_vote` says so (see the module docs), the smallest timers the core accepts, and a seed under which
    /// every server's RNG stream is the same (so renaming servers is exact,
    /// see `symmetry`).
    pub fn core_config(&self, id: NodeId) -> Config {
        let mut config = Config::new(
            id,
            self.voter_ids().collect(),
            Config::id_independent_seed(id, 0),
        );
        config.election_tick = ELECTION_TICK;
        config.heartbeat_tick = 1;
        config.pre_vote = self.pre_vote;
        config.check_quorum = false;
        config.bugs = self.bugs.clone();
        config
    }

    /// A one-line summary for humans.
    pub fn describe(&self) -> String {
        let mut parts = vec![
            format!("{} servers", self.servers),
            format!("terms <= {}", self.max_term),
            format!("log <= {}", self.max_log),
            format!("crashes <= {}", self.crashes),
            format!("proposals <= {}", self.proposals),
            format!("reads <= {}", self.reads),
        ];
        if let Some(n) = self.elections {
            parts.push(format!("elections <= {n}"));
        }
        if self.conf_changes > 0 {
            parts.push(format!(
                "conf changes <= {}, {} spare(s)",
                self.conf_changes, self.spares
            ));
        }
        if self.heartbeats > 0 {
            parts.push(format!("heartbeats <= {}", self.heartbeats));
        }
        for (on, name) in [
            (self.lossy, "lossy"),
            (self.duplicating, "duplicating"),
            (self.pre_vote, "prevote"),
            (!self.symmetry, "no symmetry"),
        ] {
            if on {
                parts.push(name.to_string());
            }
        }
        let bugs: Vec<&str> = self.bugs.iter().map(|b| b.name()).collect();
        if !bugs.is_empty() {
            parts.push(format!("bugs {}", bugs.join(",")));
        }
        parts.join(", ")
    }
}

/// The election timeout of the model's cores, in ticks. A leader's
/// heartbeat action ticks it this many times, which returns its timers to
/// where they were (see `model`), so timer counters do not multiply
/// the state space.
pub const ELECTION_TICK: u32 = 2;

/// The heartbeat budget `--lossy` gives when `--heartbeats` is not given:
/// one round, enough for a leader to recover once from lost appends (each
/// heartbeat answer makes it resend what the follower lacks). Each round
/// multiplies the lossy state space (3 servers, one term, logs <= 2: 10,514
/// states without heartbeats, over a minute of CPU with one), so more is
/// left to `--heartbeats N`.
pub const LOSSY_HEARTBEATS: u8 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_bounds_are_refused() {
        assert!(RaftModelOptions::default().validate().is_ok());
        for bad in [
            RaftModelOptions {
                servers: 0,
                ..Default::default()
            },
            RaftModelOptions {
                servers: 10,
                ..Default::default()
            },
            RaftModelOptions {
                max_term: 0,
                ..Default::default()
            },
            RaftModelOptions {
                max_log: 0,
                ..Default::default()
            },
            RaftModelOptions {
                spares: 1,
                ..Default::default()
            },
            RaftModelOptions {
                servers: 8,
                spares: 2,
                conf_changes: 1,
                ..Default::default()
            },
            RaftModelOptions {
                proposals: 90,
                reads: 20,
                ..Default::default()
            },
        ] {
            let err = bad.validate().unwrap_err().to_string();
            assert!(err.starts_with("--"), "{err}");
        }
    }

    #[test]
    fn core_config_is_accepted_by_the_core() {
        let opts = RaftModelOptions::default();
        for id in opts.ids() {
            let node = faultline_raft::RawNode::new(opts.core_config(id), Default::default());
            assert!(node.is_ok(), "{:?}", node.err());
        }
    }
}
