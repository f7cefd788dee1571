//! An in-memory cluster for tests: each node's disk (the test kit's
//! `MemDisk`), a toy state machine (the list of applied commands), a message
//! queue with partitions, and the caller's side of the Ready protocol done
//! by the book (the test kit's driver). Every action returns a readable
//! transcript, in the test kit's format.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

use faultline_raft::testkit::{self, Formatter, MemDisk, ReadyHost, Send};
use faultline_raft::{
    Config, Entry, EntryKind, Index, Message, NodeId, PersistedState, RawNode, ReadState, Ready,
    Snapshot,
};

/// A node's state machine: applied commands with their indexes, in order
/// (restored from the snapshot data on restart).
pub type Machine = Vec<(Index, String)>;

pub struct Cluster {
    pub configs: BTreeMap<NodeId, Config>,
    pub nodes: BTreeMap<NodeId, RawNode>,
    pub disks: BTreeMap<NodeId, MemDisk>,
    pub machines: BTreeMap<NodeId, Machine>,
    pub queue: VecDeque<Message>,
    /// When set, messages between this side and the rest are dropped.
    pub partition: Option<BTreeSet<NodeId>>,
    /// Every read served: (node, ctx, index).
    pub reads: Vec<(NodeId, String, Index)>,
}

/// `first..=last [(term,value),...]`: entries with the indexes they span.
pub fn fmt_entries(es: &[Entry]) -> String {
    let f = Formatter::text();
    match (es.first(), es.last()) {
        (Some(a), Some(b)) => format!("{}..={} {}", a.index, b.index, f.entries(es)),
        _ => f.entries(es),
    }
}

/// Snapshot data: `index=command` pairs joined by commas.
fn encode_sm(sm: &[(Index, String)]) -> Vec<u8> {
    sm.iter()
        .map(|(i, v)| format!("{i}={v}"))
        .collect::<Vec<_>>()
        .join(",")
        .into_bytes()
}

fn decode_sm(data: &[u8]) -> Machine {
    let s = String::from_utf8_lossy(data);
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (i, v) = p.split_once('=').expect("index=command");
            (i.parse().expect("index"), v.to_string())
        })
        .collect()
}

fn cut(partition: &Option<BTreeSet<NodeId>>, a: NodeId, b: NodeId) -> bool {
    match partition {
        Some(side) => side.contains(&a) != side.contains(&b),
        None => false,
    }
}

/// One node's side of a Ready, writing the transcript as it goes.
struct Host<'a> {
    id: NodeId,
    node: &'a mut RawNode,
    disk: &'a mut MemDisk,
    machine: &'a mut Machine,
    queue: &'a mut VecDeque<Message>,
    partition: &'a Option<BTreeSet<NodeId>>,
    reads: &'a mut Vec<(NodeId, String, Index)>,
    out: &'a mut String,
}

impl ReadyHost for Host<'_> {
    fn core(&mut self) -> Option<&mut RawNode> {
        Some(self.node)
    }

    fn disk(&mut self) -> &mut MemDisk {
        self.disk
    }

    fn begin(&mut self, ready: &Ready) {
        let _ = writeln!(self.out, "> {} ready", self.id);
        if let Some(ss) = &ready.soft_state {
            let leader = ss.leader.map_or("none".to_string(), |l| l.to_string());
            let _ = writeln!(self.out, "  soft: {:?} leader={leader}", ss.role);
        }
    }

    fn send(&mut self, m: Message, when: Send) {
        let prefix = match when {
            Send::Now => "send",
            Send::AfterPersist => "send-after-persist",
        };
        let line = Formatter::text().delivery(&m);
        if cut(self.partition, m.from, m.to) {
            let _ = writeln!(self.out, "  {prefix} {line} (dropped: partition)");
        } else {
            let _ = writeln!(self.out, "  {prefix} {line}");
            self.queue.push_back(m);
        }
    }

    fn persisted(&mut self, ready: &Ready) {
        if let Some(s) = &ready.snapshot {
            let _ = writeln!(
                self.out,
                "  snapshot: last:({},{}) data={}",
                s.meta.index,
                s.meta.term,
                String::from_utf8_lossy(&s.data)
            );
            *self.machine = decode_sm(&s.data);
        }
        if !ready.entries.is_empty() {
            let _ = writeln!(self.out, "  entries: {}", fmt_entries(&ready.entries));
        }
        if let Some(hs) = &ready.hard_state {
            let vote = hs.vote.map_or("none".to_string(), |v| v.to_string());
            let _ = writeln!(
                self.out,
                "  hard: term={} vote={vote} commit={}",
                hs.term, hs.commit
            );
        }
    }

    fn apply(&mut self, entries: &[Entry]) {
        let _ = writeln!(self.out, "  apply: {}", fmt_entries(entries));
        for e in entries {
            if e.kind == EntryKind::Normal {
                let v = String::from_utf8_lossy(&e.data).into_owned();
                self.machine.push((e.index, v));
            }
        }
    }

    fn serve_reads(&mut self, reads: &[ReadState], _applied: Index) {
        for rs in reads {
            let ctx = String::from_utf8_lossy(&rs.ctx).into_owned();
            let _ = writeln!(self.out, "  read: ctx={ctx} index={}", rs.index);
            self.reads.push((self.id, ctx, rs.index));
        }
    }
}

impl Cluster {
    /// `n` nodes with ids 1..=n, each configured by `tweak`.
    pub fn new(n: u64, tweak: impl Fn(&mut Config)) -> Cluster {
        let peers: Vec<NodeId> = (1..=n).collect();
        let mut c = Cluster {
            configs: BTreeMap::new(),
            nodes: BTreeMap::new(),
            disks: BTreeMap::new(),
            machines: BTreeMap::new(),
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
            c.disks.insert(id, MemDisk::default());
            c.machines.insert(id, Machine::new());
        }
        c
    }

    /// A new node `id` joining the group: configured like node `like`
    /// (the same initial peers, which do not include it).
    pub fn add_joining(&mut self, id: NodeId, like: NodeId) {
        let mut cfg = self.configs[&like].clone();
        cfg.id = id;
        let node = RawNode::new(cfg.clone(), PersistedState::default()).expect("valid config");
        self.configs.insert(id, cfg);
        self.nodes.insert(id, node);
        self.disks.insert(id, MemDisk::default());
        self.machines.insert(id, Machine::new());
    }

    /// `voters=[..] learners=[..]` of node `id`.
    pub fn conf(&self, id: NodeId) -> String {
        let c = self.node(id).conf_state();
        format!("voters={:?} learners={:?}", c.voters, c.learners)
    }

    pub fn node(&self, id: NodeId) -> &RawNode {
        &self.nodes[&id]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut RawNode {
        self.nodes.get_mut(&id).expect("known node")
    }

    /// Handle one Ready of node `id` as a careful caller would.
    pub fn handle_ready(&mut self, id: NodeId, out: &mut String) {
        let mut host = Host {
            id,
            node: self.nodes.get_mut(&id).expect("known node"),
            disk: self.disks.get_mut(&id).expect("disk"),
            machine: self.machines.get_mut(&id).expect("machine"),
            queue: &mut self.queue,
            partition: &self.partition,
            reads: &mut self.reads,
            out,
        };
        testkit::handle_ready(&mut host);
    }

    /// Deliver every queued message addressed to `id`.
    pub fn deliver_to(&mut self, id: NodeId, out: &mut String) -> bool {
        let (mine, rest): (Vec<Message>, Vec<Message>) =
            self.queue.drain(..).partition(|m| m.to == id);
        self.queue = rest.into();
        let any = !mine.is_empty();
        for m in mine {
            if cut(&self.partition, m.from, m.to) {
                continue;
            }
            let line = Formatter::text().delivery(&m);
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
        let disk = &self.disks[&id];
        let machine = disk
            .snapshot
            .as_ref()
            .map(|s| decode_sm(&s.data))
            .unwrap_or_default();
        let node = RawNode::new(self.configs[&id].clone(), disk.persisted()).expect("restart");
        self.machines.insert(id, machine);
        self.nodes.insert(id, node);
    }

    /// The application of `id` snapshots its state machine as of `index`
    /// and compacts the log up to it.
    pub fn compact(&mut self, id: NodeId, index: Index) -> Result<(), faultline_raft::RaftError> {
        let upto: Machine = self.machines[&id]
            .iter()
            .filter(|(i, _)| *i <= index)
            .cloned()
            .collect();
        let data = encode_sm(&upto);
        self.node_mut(id).compact(index, data)?;
        // The core's snapshot carries the configuration at `index`.
        let snapshot: Snapshot = self.node(id).snapshot().clone();
        self.disks
            .get_mut(&id)
            .expect("disk")
            .store_snapshot(snapshot);
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
                self.machines[id]
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
