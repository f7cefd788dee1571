//! The call/return event list of one partition, as Porcupine keeps it: an
//! intrusive doubly-linked list in an arena, sorted by time, from which a
//! linearized operation is lifted (its call and return nodes unlinked) and
//! into which it is put back on backtracking (dancing links).
//! Operations with an unknown outcome have no return node: they never block.

/// "No node".
pub const NIL: u32 = u32::MAX;
/// The head sentinel.
pub const HEAD: u32 = 0;

pub struct Events {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// For node n >= 1: the operation it belongs to.
    node_op: Vec<u32>,
    /// For node n >= 1: true for a call node.
    node_call: Vec<bool>,
    /// Per operation: its call node and return node (NIL if unknown outcome).
    call_node: Vec<u32>,
    ret_node: Vec<u32>,
}

impl Events {
    /// Builds the list from each operation's `(call, ret)` positions; `ret`
    /// `None` means the outcome is unknown.
    pub fn new(times: impl ExactSizeIterator<Item = (u32, Option<u32>)>) -> Self {
        let n = times.len();
        // (time, is_return_first_on_ties, op, is_call)
        let mut points: Vec<(u32, bool, u32, bool)> = Vec::with_capacity(2 * n);
        for (i, (call, ret)) in times.enumerate() {
            points.push((call, true, i as u32, true));
            if let Some(r) = ret {
                points.push((r, false, i as u32, false));
            }
        }
        // On equal times a return sorts first: intervals that merely touch do not overlap.
        points.sort_unstable_by_key(|&(t, call, op, _)| (t, call, op));
        let m = points.len() + 1;
        let mut ev = Events {
            next: (1..=m as u32)
                .map(|i| if i as usize == m { NIL } else { i })
                .collect(),
            prev: (0..m as u32)
                .map(|i| if i == 0 { NIL } else { i - 1 })
                .collect(),
            node_op: vec![NIL; m],
            node_call: vec![false; m],
            call_node: vec![NIL; n],
            ret_node: vec![NIL; n],
        };
        for (k, &(_, _, op, is_call)) in points.iter().enumerate() {
            let node = k as u32 + 1;
            ev.node_op[node as usize] = op;
            ev.node_call[node as usize] = is_call;
            if is_call {
                ev.call_node[op as usize] = node;
            } else {
                ev.ret_node[op as usize] = node;
            }
        }
        ev
    }

    #[inline]
    pub fn next(&self, node: u32) -> u32 {
        self.next[node as usize]
    }

    #[inline]
    pub fn op(&self, node: u32) -> u32 {
        self.node_op[node as usize]
    }

    #[inline]
    pub fn is_call(&self, node: u32) -> bool {
        self.node_call[node as usize]
    }

    #[inline]
    pub fn call_node(&self, op: u32) -> u32 {
        self.call_node[op as usize]
    }

    #[inline]
    fn unlink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    #[inline]
    fn relink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = node;
        if n != NIL {
            self.prev[n as usize] = node;
        }
    }

    /// Removes an operation's call and return nodes.
    #[inline]
    pub fn lift(&mut self, op: u32) {
        self.unlink(self.call_node[op as usize]);
        let r = self.ret_node[op as usize];
        if r != NIL {
            self.unlink(r);
        }
    }

    /// Puts back the most recently lifted operation.
    #[inline]
    pub fn unlift(&mut self, op: u32) {
        let r = self.ret_node[op as usize];
        if r != NIL {
            self.relink(r);
        }
        self.relink(self.call_node[op as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(ev: &Events) -> Vec<(u32, bool)> {
        let mut out = Vec::new();
        let mut n = ev.next(HEAD);
        while n != NIL {
            out.push((ev.op(n), ev.is_call(n)));
            n = ev.next(n);
        }
        out
    }

    #[test]
    fn sorts_lifts_and_restores() {
        let mut ev = Events::new([(0, Some(3)), (1, None), (2, Some(5))].into_iter());
        assert_eq!(
            walk(&ev),
            vec![(0, true), (1, true), (2, true), (0, false), (2, false)]
        );
        ev.lift(0);
        assert_eq!(walk(&ev), vec![(1, true), (2, true), (2, false)]);
        ev.lift(1);
        assert_eq!(walk(&ev), vec![(2, true), (2, false)]);
        ev.unlift(1);
        ev.unlift(0);
        assert_eq!(
            walk(&ev),
            vec![(0, true), (1, true), (2, true), (0, false), (2, false)]
        );
    }
}
