//! The event queue of a world: what may happen next and when (node ticks,
//! message deliveries, driver timers, delayed fault actions), and what each
//! event does when its time comes.

use std::cmp::Ordering;

use faultline_raft::Message;

use super::World;
use crate::trace::fmt_message;

/// Actions the driver or the network can schedule for later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delayed {
    Crash(usize),
    Restart(usize),
    /// Restore every link of a node.
    Reconnect(usize),
    /// Crash whichever running nodes believe they lead.
    CrashLeader,
}

#[derive(Debug)]
pub(super) enum EventKind {
    Tick { node: usize, life: u32 },
    Deliver(Message),
    Timer(u32),
    Action(Delayed),
}

#[derive(Debug)]
pub(super) struct Event {
    pub(super) time: u64,
    pub(super) seq: u64,
    pub(super) kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed: the heap pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

impl World {
    pub(super) fn push(&mut self, time: u64, kind: EventKind) {
        self.seq += 1;
        self.queue.push(Event {
            time,
            seq: self.seq,
            kind,
        });
    }

    /// Asks for `step()` to return `Some(id)` at `time`.
    pub fn set_timer(&mut self, time: u64, id: u32) {
        self.push(time.max(self.now), EventKind::Timer(id));
    }

    /// Schedules a crash or restart `delay` time units from now.
    pub fn schedule(&mut self, delay: u64, action: Delayed) {
        self.push(self.now + delay, EventKind::Action(action));
    }

    /// Takes the next event; returns the timer id when it was a driver timer,
    /// `None` when it was handled inside, or when nothing is left.
    pub fn step(&mut self) -> Option<u32> {
        let ev = self.queue.pop()?;
        self.now = ev.time;
        self.steps += 1;
        match ev.kind {
            EventKind::Tick { node, life } => {
                if self.nodes[node].incarnation == life
                    && let Some(raw) = self.nodes[node].raw.as_mut()
                {
                    raw.tick();
                    let gap = self.tick_gap(node);
                    self.push(self.now + gap, EventKind::Tick { node, life });
                    self.drain(node);
                }
                None
            }
            EventKind::Deliver(msg) => {
                self.deliver(msg);
                None
            }
            EventKind::Timer(id) => Some(id),
            EventKind::Action(Delayed::Crash(i)) => {
                if self.faults_enabled {
                    self.crash(i);
                }
                None
            }
            EventKind::Action(Delayed::Restart(i)) => {
                self.restart(i);
                None
            }
            EventKind::Action(Delayed::Reconnect(i)) => {
                self.set_isolated(i, false);
                None
            }
            EventKind::Action(Delayed::CrashLeader) => {
                let leaders = if self.faults_enabled {
                    self.leaders()
                } else {
                    Vec::new()
                };
                for i in leaders {
                    self.crash(i);
                }
                None
            }
        }
    }

    /// Whether nothing is left to happen.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Runs every event up to and including time `until`; stops early at a violation.
    pub fn run_until(&mut self, until: u64) {
        while self.violation.is_none() {
            match self.queue.peek() {
                Some(ev) if ev.time <= until => {
                    self.step();
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    /// A message arrives (unless its link is cut or its recipient is down).
    fn deliver(&mut self, msg: Message) {
        let (from, to) = ((msg.from - 1) as usize, (msg.to - 1) as usize);
        if !self.net.connected(from, to) {
            self.note(|| format!("n{} -x n{} {} (cut)", msg.from, msg.to, fmt_message(&msg)));
            return;
        }
        if !self.nodes[to].alive() {
            self.note(|| {
                format!(
                    "n{} -x n{} {} (n{} down)",
                    msg.from,
                    msg.to,
                    fmt_message(&msg),
                    msg.to
                )
            });
            return;
        }
        self.note(|| format!("n{} -> n{} {}", msg.from, msg.to, fmt_message(&msg)));
        self.stats.messages_delivered += 1;
        if let Some(raw) = self.nodes[to].raw.as_mut() {
            // A refused message (unknown peer) is dropped, as a server would.
            let _ = raw.step(msg);
        }
        self.drain(to);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BinaryHeap;

    use super::*;

    #[test]
    fn events_pop_in_time_then_sequence_order() {
        let mut heap = BinaryHeap::new();
        heap.push(Event {
            time: 5,
            seq: 1,
            kind: EventKind::Timer(1),
        });
        heap.push(Event {
            time: 3,
            seq: 2,
            kind: EventKind::Timer(2),
        });
        heap.push(Event {
            time: 3,
            seq: 3,
            kind: EventKind::Timer(3),
        });
        let order: Vec<u64> = std::iter::from_fn(|| heap.pop().map(|e| e.seq)).collect();
        assert_eq!(order, vec![2, 3, 1]);
    }
}
