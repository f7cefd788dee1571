//! The node status of DESIGN.md ("Node status"): the JSON a kvnode answers
//! to a status request, and the live copy the Ready loop keeps up to date
//! for the RPC handler and the log formatter.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use faultline_raft::{Index, NodeId, RawNode, Role, Term};
use serde::{Deserialize, Serialize};

/// The status JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub id: NodeId,
    pub group: u64,
    /// `leader`, `follower`, `candidate` or `pre-candidate`.
    pub role: String,
    pub term: Term,
    pub leader: Option<NodeId>,
    pub commit: Index,
    pub applied: Index,
    pub last_log_index: Index,
    pub snapshot_index: Index,
    /// Shard configuration number (0: this group is not sharded yet).
    pub config_num: u64,
    /// Shards this group owns (empty: not sharded yet).
    pub shards: Vec<u64>,
    /// This node's wall clock, so skew between nodes can be seen.
    pub wall_clock_ms: u64,
    /// The voters of the configuration in this node's log (membership
    /// changes take effect when appended).
    #[serde(default)]
    pub voters: Vec<NodeId>,
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Leader => "leader",
        Role::Follower => "follower",
        Role::Candidate => "candidate",
        Role::PreCandidate => "pre-candidate",
    }
}

fn role_code(role: Role) -> u8 {
    match role {
        Role::Follower => 0,
        Role::PreCandidate => 1,
        Role::Candidate => 2,
        Role::Leader => 3,
    }
}

fn role_from_code(code: u8) -> Role {
    match code {
        1 => Role::PreCandidate,
        2 => Role::Candidate,
        3 => Role::Leader,
        _ => Role::Follower,
    }
}

/// Milliseconds since the Unix epoch by this machine's clock.
pub fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// State shared between the Ready loop (writer) and readers on other
/// threads: the status handler and the log line prefix.
#[derive(Debug)]
pub struct LiveStatus {
    id: NodeId,
    group: u64,
    role: AtomicU8,
    term: AtomicU64,
    latest: Mutex<NodeStatus>,
}

impl LiveStatus {
    pub fn new(id: NodeId, group: u64) -> LiveStatus {
        LiveStatus {
            id,
            group,
            role: AtomicU8::new(0),
            term: AtomicU64::new(0),
            latest: Mutex::new(NodeStatus {
                id,
                group,
                role: role_name(Role::Follower).into(),
                term: 0,
                leader: None,
                commit: 0,
                applied: 0,
                last_log_index: 0,
                snapshot_index: 0,
                config_num: 0,
                shards: Vec::new(),
                wall_clock_ms: 0,
                voters: Vec::new(),
            }),
        }
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn role(&self) -> Role {
        role_from_code(self.role.load(Ordering::Relaxed))
    }

    pub fn term(&self) -> Term {
        self.term.load(Ordering::Relaxed)
    }

    /// Refresh from the core (called by the Ready loop after each round).
    pub fn update(&self, raw: &RawNode, applied: Index) {
        let role = raw.role();
        self.role.store(role_code(role), Ordering::Relaxed);
        self.term.store(raw.term(), Ordering::Relaxed);
        let mut s = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        s.role = role_name(role).into();
        s.term = raw.term();
        s.leader = raw.leader();
        s.commit = raw.commit();
        s.applied = applied;
        s.last_log_index = raw.last_index();
        s.snapshot_index = raw.snapshot().meta.index;
        s.voters = raw.conf_state().voters;
    }

    /// Record the shard configuration number and the shards served.
    pub fn set_shards(&self, config_num: u64, shards: Vec<u64>) {
        let mut s = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        s.config_num = config_num;
        s.shards = shards;
    }

    /// The status now, with the current wall clock.
    pub fn snapshot(&self) -> NodeStatus {
        let mut s = self
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        s.id = self.id;
        s.group = self.group;
        s.wall_clock_ms = wall_clock_ms();
        s
    }

    /// The status as JSON.
    pub fn json(&self) -> String {
        serde_json::to_string(&self.snapshot()).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
