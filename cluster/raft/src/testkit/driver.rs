//! The one Ready driver: handles a node's `Ready` in the order the core's
//! contract (`crate::node`) asks, and leaves what is particular to a host
//! (its network, its state machine, its checks) to a `ReadyHost`:
//!
//! 1. `begin` sees the fresh Ready (role changes, logging);
//! 2. `messages` are sent at once (`Send::Now`);
//! 3. if anything is to be written, `before_persist` may stop here (a crash
//!    before the write is durable); otherwise the snapshot, entries and
//!    hard state go to the host's `MemDisk`, and `persisted` sees them;
//! 4. `persisted_messages` are sent (`Send::AfterPersist`);
//! 5. `committed_entries` are applied (`apply`), then `read_states` served
//!    (`serve_reads`, with the index applied by then);
//! 6. `advance`.

use crate::node::Ready;
use crate::raw_node::RawNode;
use crate::testkit::disk::MemDisk;
use crate::types::{Entry, Index, Message, ReadState};

/// When a message leaves, relative to the Ready's write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Send {
    /// `Ready::messages`: in parallel with persisting.
    Now,
    /// `Ready::persisted_messages`: once the write is durable.
    AfterPersist,
}

/// What a host does with a Ready; every hook but `core`, `disk` and `send`
/// does nothing by default.
pub trait ReadyHost {
    /// The core being driven; `None` when it is down (the driver stops).
    fn core(&mut self) -> Option<&mut RawNode>;
    /// The node's durable state.
    fn disk(&mut self) -> &mut MemDisk;
    /// Send one message.
    fn send(&mut self, msg: Message, when: Send);
    /// A fresh Ready, before anything of it is done.
    fn begin(&mut self, _ready: &Ready) {}
    /// About to write (only when the Ready writes something); false stops
    /// the driver before anything is durable (the node crashed).
    fn before_persist(&mut self, _ready: &Ready) -> bool {
        true
    }
    /// The Ready's snapshot, entries and hard state are durable.
    fn persisted(&mut self, _ready: &Ready) {}
    /// Apply committed entries, in order (never called with none).
    fn apply(&mut self, _entries: &[Entry]) {}
    /// Serve read states; `applied` is the index applied once this Ready's
    /// entries are (never called with none).
    fn serve_reads(&mut self, _reads: &[ReadState], _applied: Index) {}
}

/// How handling one Ready ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Handled and advanced.
    Advanced,
    /// The core is down, or went down during the Ready (`before_persist`).
    Stopped,
}

/// How driving a node to quiescence ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// The core has nothing more to hand out.
    Quiet,
    /// The core is down, or went down during a Ready.
    Stopped,
    /// Still work after the allowed rounds: the core keeps producing work
    /// on its own, which breaks its contract.
    Busy,
}

/// Take one Ready from the host's core and handle it (even an empty one).
pub fn handle_ready(host: &mut impl ReadyHost) -> Handled {
    let Some(core) = host.core() else {
        return Handled::Stopped;
    };
    let mut ready = core.ready();
    host.begin(&ready);
    for m in std::mem::take(&mut ready.messages) {
        host.send(m, Send::Now);
    }
    if MemDisk::writes(&ready) {
        if !host.before_persist(&ready) {
            return Handled::Stopped;
        }
        host.disk().write(&ready);
        host.persisted(&ready);
    }
    for m in std::mem::take(&mut ready.persisted_messages) {
        host.send(m, Send::AfterPersist);
    }
    if !ready.committed_entries.is_empty() {
        host.apply(&ready.committed_entries);
    }
    if !ready.read_states.is_empty() {
        let applied = match (ready.committed_entries.last(), host.core()) {
            (Some(e), _) => e.index,
            (None, Some(core)) => core.applied(),
            (None, None) => 0,
        };
        host.serve_reads(&ready.read_states, applied);
    }
    match host.core() {
        Some(core) => {
            core.advance(ready);
            Handled::Advanced
        }
        None => Handled::Stopped,
    }
}

/// Handle Readys while the core has any, at most `max_rounds` of them.
pub fn drain(host: &mut impl ReadyHost, max_rounds: usize) -> Drained {
    for _ in 0..max_rounds {
        match host.core() {
            None => return Drained::Stopped,
            Some(core) if !core.has_ready() => return Drained::Quiet,
            Some(_) => {}
        }
        if handle_ready(host) == Handled::Stopped {
            return Drained::Stopped;
        }
    }
    match host.core() {
        None => Drained::Stopped,
        Some(core) if core.has_ready() => Drained::Busy,
        Some(_) => Drained::Quiet,
    }
}

#[cfg(test)]
mod tests {
    use crate::node::{Config, PersistedState};

    use super::*;

    /// Records what the driver asked, in order.
    struct Recorder {
        core: Option<RawNode>,
        disk: MemDisk,
        log: Vec<String>,
        crash_before_write: bool,
    }

    impl ReadyHost for Recorder {
        fn core(&mut self) -> Option<&mut RawNode> {
            self.core.as_mut()
        }
        fn disk(&mut self) -> &mut MemDisk {
            &mut self.disk
        }
        fn send(&mut self, msg: Message, when: Send) {
            self.log.push(format!("send {when:?} to {}", msg.to));
        }
        fn begin(&mut self, _: &Ready) {
            self.log.push("begin".into());
        }
        fn before_persist(&mut self, _: &Ready) -> bool {
            if self.crash_before_write {
                self.core = None;
            }
            !self.crash_before_write
        }
        fn persisted(&mut self, _: &Ready) {
            self.log
                .push(format!("persisted term {}", self.disk.hard_state.term));
        }
        fn apply(&mut self, entries: &[Entry]) {
            self.log.push(format!("apply {}", entries.len()));
        }
    }

    fn single(crash_before_write: bool) -> Recorder {
        let core = RawNode::new(Config::new(1, vec![1], 7), PersistedState::default()).unwrap();
        Recorder {
            core: Some(core),
            disk: MemDisk::default(),
            log: Vec::new(),
            crash_before_write,
        }
    }

    #[test]
    fn a_single_node_elects_itself_persisting_before_it_applies() {
        let mut host = single(false);
        host.core.as_mut().unwrap().campaign();
        assert_eq!(drain(&mut host, 16), Drained::Quiet);
        let core = host.core.as_ref().unwrap();
        assert_eq!(core.role(), crate::types::Role::Leader);
        assert_eq!(host.disk.last_index(), 1, "the leader's no-op is durable");
        let persisted = host.log.iter().position(|l| l.starts_with("persisted"));
        let applied = host.log.iter().position(|l| l.starts_with("apply"));
        assert!(persisted.unwrap() < applied.unwrap(), "{:?}", host.log);
        assert_eq!(host.disk.persisted().entries, core.log_entries());
    }

    #[test]
    fn a_crash_before_the_write_leaves_the_disk_untouched() {
        let mut host = single(true);
        host.core.as_mut().unwrap().campaign();
        assert_eq!(drain(&mut host, 16), Drained::Stopped);
        assert_eq!(host.disk, MemDisk::default());
        assert_eq!(host.log, vec!["begin".to_string()]);
    }
}
