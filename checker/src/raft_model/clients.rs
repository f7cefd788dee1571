//! The clients of the model: each proposal is a write of a distinct value,
//! each ReadIndex request a read, both recorded in stateright's
//! `LinearizabilityTester` over a `Register` spec (the `linearizable-reads`
//! property).
//!
//! Every operation gets its own client thread, so operations are concurrent
//! unless one returned before the other was invoked (real time). A write
//! returns when the server it was proposed to applies the proposed entry at
//! the index `propose` gave; a read returns when its server serves the
//! ReadState, with the register value the server has applied. An operation
//! whose server crashes, loses leadership, or applies another entry at that
//! index never returns: the tester treats it as possibly taking effect at
//! any later time, which is exactly what a client that timed out knows.

use faultline_raft::{Index, NodeId, Term};
use stateright::semantics::register::{Register, RegisterOp, RegisterRet};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};

use crate::raft_model::render::register_value_name;

/// The register the clients read and write: value 0 is the initial value,
/// proposal k writes value k.
pub type Tester = LinearizabilityTester<u8, Register<u8>>;

/// What an operation waits for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Waiting {
    /// The proposing server to apply `value` at `index`.
    Write { index: Index, value: u8 },
    /// The ReadState with ctx `[thread]` from the server, while it is still
    /// leader of `term` (the core drops a read when leadership is lost).
    Read { term: Term },
}

/// An operation that may still return.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pending {
    pub thread: u8,
    pub node: NodeId,
    pub waiting: Waiting,
}

/// The client side of the model's history.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Clients {
    pub tester: Tester,
    pub pending: Vec<Pending>,
    /// Operations invoked so far; the next thread id.
    pub invoked: u8,
}

impl Default for Clients {
    fn default() -> Self {
        Clients {
            tester: Tester::new(Register(0)),
            pending: Vec::new(),
            invoked: 0,
        }
    }
}

/// The outcome of feeding a return to the tester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Returned {
    /// Nothing was waiting for this.
    Nothing,
    /// An operation returned and the history is still linearizable.
    Linearizable,
    /// An operation returned and the history is no longer linearizable.
    NotLinearizable(String),
}

impl Clients {
    /// A client proposed `value` at `node`, which will put it at `index`.
    pub fn invoke_write(&mut self, node: NodeId, index: Index, value: u8) {
        let thread = self.next_thread();
        // A fresh thread never has an operation in flight: cannot fail.
        let _ = self.tester.on_invoke(thread, RegisterOp::Write(value));
        self.pending.push(Pending {
            thread,
            node,
            waiting: Waiting::Write { index, value },
        });
    }

    /// A client asked `node`, leader of `term`, for a read; returns the ctx
    /// to pass to `read_index`.
    pub fn invoke_read(&mut self, node: NodeId, term: Term) -> Vec<u8> {
        let thread = self.next_thread();
        let _ = self.tester.on_invoke(thread, RegisterOp::Read);
        self.pending.push(Pending {
            thread,
            node,
            waiting: Waiting::Read { term },
        });
        vec![thread]
    }

    fn next_thread(&mut self) -> u8 {
        let t = self.invoked;
        self.invoked += 1;
        t
    }

    /// `node` applied `data` at `index`: a write proposed there at that
    /// index returns if it is the same value, and is abandoned otherwise.
    pub fn applied(&mut self, node: NodeId, index: Index, data: &[u8]) -> Returned {
        let Some(pos) = self.pending.iter().position(|p| {
            p.node == node && matches!(p.waiting, Waiting::Write { index: i, .. } if i == index)
        }) else {
            return Returned::Nothing;
        };
        let p = self.pending.remove(pos);
        let Waiting::Write { value, .. } = p.waiting else {
            return Returned::Nothing;
        };
        if data != [value] {
            return Returned::Nothing;
        }
        let what = format!("n{node} acknowledged the write of {}", value_name(value));
        self.finish(p.thread, RegisterRet::WriteOk, what)
    }

    /// `node` served the read with `ctx`, returning `value`.
    pub fn served(&mut self, node: NodeId, ctx: &[u8], value: u8) -> Returned {
        let Some(pos) = self.pending.iter().position(|p| {
            p.node == node && [p.thread] == *ctx && matches!(p.waiting, Waiting::Read { .. })
        }) else {
            return Returned::Nothing;
        };
        let p = self.pending.remove(pos);
        let what = format!("n{node} served a read with {}", value_name(value));
        self.finish(p.thread, RegisterRet::ReadOk(value), what)
    }

    fn finish(&mut self, thread: u8, ret: RegisterRet<u8>, what: String) -> Returned {
        let _ = self.tester.on_return(thread, ret);
        if self.tester.serialized_history().is_some() {
            Returned::Linearizable
        } else {
            Returned::NotLinearizable(format!(
                "{what}: no linearization of the client history exists"
            ))
        }
    }

    /// The clients of `node` lose their connections (it crashed): their
    /// operations stay in flight forever.
    pub fn disconnect(&mut self, node: NodeId) {
        self.pending.retain(|p| p.node != node);
    }

    /// Reads at `node` that it can no longer serve (it is no longer leader
    /// of the term they arrived in) stay in flight forever.
    pub fn drop_stale_reads(&mut self, node: NodeId, leader_of: Option<Term>) {
        self.pending.retain(|p| match p.waiting {
            Waiting::Read { term } if p.node == node => leader_of == Some(term),
            _ => true,
        });
    }
}

/// `"v3"` for a written value, `initial` for the register's initial 0.
pub fn value_name(v: u8) -> String {
    if v == 0 {
        "initial".to_string()
    } else {
        register_value_name(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_after_an_acknowledged_write_must_see_it() {
        let mut c = Clients::default();
        c.invoke_write(1, 2, 1);
        assert_eq!(c.applied(1, 2, &[1]), Returned::Linearizable);
        let ctx = c.invoke_read(2, 2);
        assert!(matches!(c.served(2, &ctx, 0), Returned::NotLinearizable(_)));
    }

    #[test]
    fn concurrent_reads_may_see_either_value() {
        let mut c = Clients::default();
        c.invoke_write(1, 2, 1);
        let ctx = c.invoke_read(1, 2);
        assert_eq!(c.served(1, &ctx, 0), Returned::Linearizable);
        let ctx = c.invoke_read(1, 2);
        assert_eq!(c.served(1, &ctx, 1), Returned::Linearizable);
        // The write never returned, but a read saw it: then a later read
        // cannot go back to the initial value.
        let ctx = c.invoke_read(1, 2);
        assert!(matches!(c.served(1, &ctx, 0), Returned::NotLinearizable(_)));
    }

    #[test]
    fn overwritten_or_disconnected_operations_never_return() {
        let mut c = Clients::default();
        c.invoke_write(1, 2, 1);
        assert_eq!(c.applied(1, 2, &[9]), Returned::Nothing);
        assert!(c.pending.is_empty());
        let ctx = c.invoke_read(2, 3);
        c.drop_stale_reads(2, Some(3));
        assert_eq!(c.pending.len(), 1);
        c.drop_stale_reads(2, Some(4));
        assert!(c.pending.is_empty());
        assert_eq!(c.served(2, &ctx, 0), Returned::Nothing);
        c.invoke_write(3, 1, 2);
        c.disconnect(3);
        assert_eq!(c.applied(3, 1, &[2]), Returned::Nothing);
    }
}
