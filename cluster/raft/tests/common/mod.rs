//! An in-memory cluster for tests: each node's "disk" (hard state, snapshot,
//! entries), a toy state machine (the list of applied commands), a message
//! queue with partitions, and the caller's side of the Ready protocol done
//! by the book. Every action returns a readable transcript.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

use faultline_raft::{
    Config, Entry, EntryKind, HardState, Index, Message, MessageBody, NodeId, PersistedState,
    RawNode, Ready, Snapshot,
};

/// What survived on one node's disk, and its applied state machine.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    pub hard_state: HardState,
    pub snapshot: Option<Snapshot>,
    pub entries: Vec<Entry>,
    /// The state machine: applied commands with their indexes, in order
    /// (restored from the snapshot data on restart).
    pub applied: Vec<(Index, String)>,
}

pub struct Cluster {
    pub configs: BTreeMap<NodeId, Config>,
    pub nodes: BTreeMap<NodeId, RawNode>,
    pub disks: BTreeMap<NodeId, Disk>,
    pub queue: VecDeque<Message>,
    /// When set, messages between this side and the rest are dropped.
    pub partition: Option<BTreeSet<NodeId>>,
    /// Every read served: (node, ctx, index).
    pub reads: Vec<(NodeId, String, Index)>,
}

pub fn fmt_entry(e: &Entry) -> String {
    match e.kind {
        EntryKind::Noop => format!("{}@t{}:noop", e.index, e.term),
        EntryKind::Normal => format!(
            "{}@t{}:{}",
            e.index,
            e.term,
            String::from_utf8_lossy(&e.data)
        ),
    }
}

pub fn fmt_entries(es: &[Entry]) -> String {
    es.iter().map(fmt_entry).collect::<Vec<_>>().join(" ")
}

fn fmt_ctx(ctx: &Option<Vec<u8>>) -> String {
    match ctx {
        Some(c) => format!(" ctx={}", String::from_utf8_lossy(c)),
        None => String::new(),
    }
}

pub fn fmt_msg(m: &Message) -> String {
    let body = match &m.body {
        MessageBody::PreVote {
            last_log_index,
            last_log_term,
        } => format!("PreVote last={last_log_index}@t{last_log_term}"),
        MessageBody::RequestVote {
            last_log_index,
            last_log_term,
        } => format!("RequestVote last={last_log_index}@t{last_log_term}"),
        MessageBody::PreVoteResponse { reject } => {
            format!(
                "PreVoteResponse {}",
                if *reject { "reject" } else { "grant" }
            )
        }
        MessageBody::RequestVoteResponse { reject } => {
            format!(
                "RequestVoteResponse {}",
                if *reject { "reject" } else { "grant" }
            )
        }
        MessageBody::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            commit,
        } => format!(
            "AppendEntries prev={prev_log_index}@t{prev_log_term} commit={commit} [{}]",
            fmt_entries(entries)
        ),
        MessageBody::AppendEntriesResponse {
            reject,
            index,
            hint,
        } => {
            let hint = match hint {
                Some((0, last)) => format!(" hint=(last {last})"),
                Some((t, i)) => format!(" hint=(t{t} from {i})"),
                None => String::new(),
            };
            format!(
                "AppendEntriesResponse {} index={index}{hint}",
                if *reject { "reject" } else { "ok" }
            )
        }
        MessageBody::Heartbeat { commit, ctx } => {
            format!("Heartbeat commit={commit}{}", fmt_ctx(ctx))
        }
        MessageBody::HeartbeatResponse { ctx } => format!("HeartbeatResponse{}", fmt_ctx(ctx)),
        MessageBody::InstallSnapshot { snapshot } => format!(
            "InstallSnapshot {}@t{} data={}",
            snapshot.meta.index,
            snapshot.meta.term,
            String::from_utf8_lossy(&snapshot.data)
        ),
    };
    format!("{}->{} t{} {body}", m.from, m.to, m.term)
}

/// Snapshot data: `index=command` pairs joined by commas.
fn encode_sm(sm: &[(Index, String)]) -> Vec<u8> {
    sm.iter()
        .map(|(i, v)| format!("{i}={v}"))
        .collect::<Vec<_>>()
        .join(",")
        .into_bytes()
}

fn decode_sm(data: &[u8]) -> Vec<(Index, String)> {
    let s = String::from_utf8_lossy(data);
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (i, v) = p.split_once('=').expect("index=command");
            (i.parse().expect("index"), v.to_string())
        })
        .collect()
}

impl Cluster {
    /// `n` nodes with ids 1..=n, each configured by `tweak`.
    pub fn new(n: u64, tweak: impl Fn(&mut Config)) -> Cluster {
        let peers: Vec<NodeId> = (1..=n).collect();
        let mut c = Cluster {
            configs: BTreeMap::new(),
            nodes: BTreeMap::new(),
            disks: BTreeMap::new(),
            queue: VecDeque::new(),
            partition: None,
            reads: Vec::new(),
        };
        for id in 1..=n {
            let mut cfg = Config::new(id, peers.clone(), 42);
            tweak(&mut cfg);
            let node = RawNode::new(cfg.clone(), PersistedState::default()).expect("valid config");
            c.configs.insert(id, cfg);
            c.nodes.insert(id, node);
            c.disks.insert(id, Disk::default());
        }
        c
    }

    pub fn node(&self, id: NodeId) -> &RawNode {
        &self.nodes[&id]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut RawNode {
        self.nodes.get_mut(&id).expect("known node")
    }

    fn cut(&self, a: NodeId, b: NodeId) -> bool {
        match &self.partition {
            Some(side) => side.contains(&a) != side.contains(&b),
            None => false,
        }
    }

    fn enqueue(&mut self, out: &mut String, prefix: &str, m: Message) {
        if self.cut(m.from, m.to) {
            let _ = writeln!(out, "  {prefix} {} (dropped: partition)", fmt_msg(&m));
        } else {
            let _ = writeln!(out, "  {prefix} {}", fmt_msg(&m));
            self.queue.push_back(m);
        }
    }

    /// Handle one Ready of node `id` as a careful caller would.
    pub fn handle_ready(&mut self, id: NodeId, out: &mut String) {
        let rd: Ready = self.node_mut(id).ready();
        let _ = writeln!(out, "> {id} ready");
        if let Some(ss) = &rd.soft_state {
            let leader = ss.leader.map_or("none".to_string(), |l| l.to_string());
            let _ = writeln!(out, "  soft: {:?} leader={leader}", ss.role);
        }
        // Messages that may leave at once.
        for m in rd.messages.clone() {
            self.enqueue(out, "send", m);
        }
        let disk = self.disks.get_mut(&id).expect("disk");
        if let Some(s) = &rd.snapshot {
            let _ = writeln!(
                out,
                "  snapshot: {}@t{} data={}",
                s.meta.index,
                s.meta.term,
                String::from_utf8_lossy(&s.data)
            );
            disk.snapshot = Some(s.clone());
            disk.entries.clear();
            disk.applied = decode_sm(&s.data);
        }
        if !rd.entries.is_empty() {
            let _ = writeln!(out, "  entries: {}", fmt_entries(&rd.entries));
            let first = rd.entries[0].index;
            disk.entries.retain(|e| e.index < first);
            disk.entries.extend(rd.entries.iter().cloned());
        }
        if let Some(hs) = &rd.hard_state {
            let vote = hs.vote.map_or("none".to_string(), |v| v.to_string());
            let _ = writeln!(
                out,
                "  hard: term={} vote={vote} commit={}",
                hs.term, hs.commit
            );
            disk.hard_state = hs.clone();
        }
        if !rd.committed_entries.is_empty() {
            let _ = writeln!(out, "  apply: {}", fmt_entries(&rd.committed_entries));
            for e in &rd.committed_entries {
                if e.kind == EntryKind::Normal {
                    let v = String::from_utf8_lossy(&e.data).into_owned();
                    disk.applied.push((e.index, v));
                }
            }
        }
        for rs in &rd.read_states {
            let ctx = String::from_utf8_lossy(&rs.ctx).into_owned();
            let _ = writeln!(out, "  read: ctx={ctx} index={}", rs.index);
            self.reads.push((id, ctx, rs.index));
        }
        for m in rd.persisted_messages.clone() {
            self.enqueue(out, "send-after-persist", m);
        }
        self.node_mut(id).advance(rd);
    }

    /// Deliver every queued message addressed to `id`.
    pub fn deliver_to(&mut self, id: NodeId, out: &mut String) -> bool {
        let (mine, rest): (Vec<Message>, Vec<Message>) =
            self.queue.drain(..).partition(|m| m.to == id);
        self.queue = rest.into();
        let any = !mine.is_empty();
        for m in mine {
            if self.cut(m.from, m.to) {
                continue;
            }
            let line = fmt_msg(&m);
            if let Err(e) = self.node_mut(id).step(m) {
                let _ = writeln!(out, "  {id} refused {line}: {e}");
            }
        }
        any
    }

    /// Run Readys and deliver messages until nothing is left to do.
    pub fn stabilize(&mut self) -> String {
        let mut out = String::new();
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for _round in 0..1000 {
            let mut busy = false;
            for &id in &ids {
                if self.nodes[&id].has_ready() {
                    self.handle_ready(id, &mut out);
                    busy = true;
                }
            }
            for &id in &ids {
                busy |= self.deliver_to(id, &mut out);
            }
            if !busy {
                return out;
            }
        }
        panic!("cluster did not stabilize in 1000 rounds:\n{out}");
    }

    pub fn tick(&mut self, id: NodeId, n: u32) {
        for _ in 0..n {
            self.node_mut(id).tick();
        }
    }

    /// Crash and restart `id` from its disk (in-flight messages to it stay
    /// queued; its own unpersisted state is lost).
    pub fn restart(&mut self, id: NodeId) {
        let disk = self.disks.get_mut(&id).expect("disk");
        disk.applied = disk
            .snapshot
            .as_ref()
            .map(|s| decode_sm(&s.data))
            .unwrap_or_default();
        let persisted = PersistedState {
            hard_state: disk.hard_state.clone(),
            snapshot: disk.snapshot.clone(),
            entries: disk.entries.clone(),
        };
        let node = RawNode::new(self.configs[&id].clone(), persisted).expect("restart");
        self.nodes.insert(id, node);
    }

    /// The application of `id` snapshots its state machine as of `index`
    /// and compacts the log up to it.
    pub fn compact(&mut self, id: NodeId, index: Index) -> Result<(), faultline_raft::RaftError> {
        let upto: Vec<(Index, String)> = self.disks[&id]
            .applied
            .iter()
            .filter(|(i, _)| *i <= index)
            .cloned()
            .collect();
        let data = encode_sm(&upto);
        let term = self.node(id).term_at(index);
        self.node_mut(id).compact(index, data.clone())?;
        let disk = self.disks.get_mut(&id).expect("disk");
        disk.snapshot = Some(Snapshot {
            meta: faultline_raft::SnapshotMeta {
                index,
                term: term.unwrap_or(0),
                voters: Vec::new(),
            },
            data,
        });
        disk.entries.retain(|e| e.index > index);
        Ok(())
    }

    /// One line per node.
    pub fn status(&self) -> String {
        let mut out = String::new();
        for (id, n) in &self.nodes {
            let leader = n.leader().map_or("none".to_string(), |l| l.to_string());
            let vote = n.vote().map_or("none".to_string(), |v| v.to_string());
            let _ = writeln!(
                out,
                "{id}: {:?} term={} vote={vote} leader={leader} commit={} applied={} last={} snap={} sm=[{}]",
                n.role(),
                n.term(),
                n.commit(),
                n.applied(),
                n.last_index(),
                n.snapshot().meta.index,
                self.disks[id]
                    .applied
                    .iter()
                    .map(|(_, v)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
        out
    }

    /// Tick `id` until it starts an election... simpler: campaign.
    pub fn elect(&mut self, id: NodeId) -> String {
        self.node_mut(id).campaign();
        self.stabilize()
    }
}
