//! The model's network: the set of messages in flight, unordered.
//!
//! Any message in flight may be delivered next (reordering is free). A
//! message sent while an identical one is already in flight is merged with
//! it: one copy per message, as in the TLC runs of `raft.tla` this model is
//! compared with. Delivering the same message twice is the duplication
//! fault, which `--duplicating` adds (a delivered message may stay in
//! flight); `--lossy` lets any message be dropped. Keeping a set, not a
//! multiset, also keeps the state space finite: a leader's repeated
//! heartbeats do not pile up.

use faultline_raft::Message;

/// Messages in flight, kept sorted so equal networks hash equally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Network {
    in_flight: Vec<Message>,
}

impl Network {
    /// Put a message in flight; returns false if an identical one already was.
    pub fn send(&mut self, msg: Message) -> bool {
        match self.in_flight.binary_search(&msg) {
            Ok(_) => false,
            Err(pos) => {
                self.in_flight.insert(pos, msg);
                true
            }
        }
    }

    /// Take a message out of flight; returns false if it was not in flight.
    pub fn remove(&mut self, msg: &Message) -> bool {
        match self.in_flight.binary_search(msg) {
            Ok(pos) => {
                self.in_flight.remove(pos);
                true
            }
            Err(_) => false,
        }
    }

    pub fn contains(&self, msg: &Message) -> bool {
        self.in_flight.binary_search(msg).is_ok()
    }

    /// The messages in flight, in a deterministic (sorted) order.
    pub fn iter(&self) -> impl Iterator<Item = &Message> {
        self.in_flight.iter()
    }

    pub fn len(&self) -> usize {
        self.in_flight.len()
    }

    pub fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use faultline_raft::MessageBody;

    use super::*;

    fn msg(from: u64, to: u64, term: u64) -> Message {
        Message {
            from,
            to,
            term,
            body: MessageBody::RequestVoteResponse { reject: false },
        }
    }

    #[test]
    fn one_copy_per_message_in_sorted_order() {
        let mut net = Network::default();
        assert!(net.send(msg(2, 1, 1)));
        assert!(net.send(msg(1, 2, 1)));
        assert!(!net.send(msg(2, 1, 1)), "an identical message merges");
        assert_eq!(net.len(), 2);
        let order: Vec<_> = net.iter().map(|m| m.from).collect();
        assert_eq!(order, vec![1, 2]);
        assert!(net.contains(&msg(1, 2, 1)));
        assert!(net.remove(&msg(1, 2, 1)));
        assert!(!net.remove(&msg(1, 2, 1)));
        assert_eq!(net.len(), 1);
        assert!(!net.is_empty());
    }

    #[test]
    fn insertion_order_does_not_matter() {
        let mut a = Network::default();
        let mut b = Network::default();
        for m in [msg(1, 2, 1), msg(3, 1, 2), msg(2, 3, 1)] {
            a.send(m);
        }
        for m in [msg(2, 3, 1), msg(1, 2, 1), msg(3, 1, 2)] {
            b.send(m);
        }
        assert_eq!(a, b);
    }
}
