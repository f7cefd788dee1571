//! State Machine Safety at apply: every node applies, at an index, the
//! entry that was applied there first.

use crate::testkit::fmt::{Formatter, Payload};
use crate::testkit::safety::{Breach, Safety, breach};
use crate::types::{Entry, EntryKind, NodeId, Term};

/// What an applied entry is (its index aside): how a host may keep the
/// first application of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryView<'a> {
    pub term: Term,
    pub kind: &'a EntryKind,
    pub data: &'a [u8],
}

impl<'a> From<&'a Entry> for EntryView<'a> {
    fn from(e: &'a Entry) -> Self {
        EntryView {
            term: e.term,
            kind: &e.kind,
            data: &e.data,
        }
    }
}

/// `node` applied `mine` where `first` was applied first (by `first_by`,
/// when the host knows who); `f` shows the entries in the breach.
pub fn same_application<P: Payload>(
    node: NodeId,
    mine: &Entry,
    first: EntryView<'_>,
    first_by: Option<NodeId>,
    f: &Formatter<P>,
) -> Result<(), Breach> {
    if EntryView::from(mine) == first {
        return Ok(());
    }
    let (shown, theirs) = (
        f.entry(mine),
        f.entry_parts(first.term, first.kind, first.data),
    );
    let detail = match first_by {
        Some(other) => format!(
            "n{node} applied {shown} at index {}, but n{other} applied {theirs} there",
            mine.index
        ),
        None => format!(
            "n{node} applied {shown} at index {} where {theirs} was applied before",
            mine.index
        ),
    };
    breach(Safety::StateMachineSafety, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_entries_at_one_index_break_state_machine_safety() {
        let a = Entry {
            term: 1,
            index: 1,
            kind: EntryKind::Normal,
            data: b"a".to_vec(),
        };
        let b = Entry {
            data: b"b".to_vec(),
            ..a.clone()
        };
        let f = Formatter::text();
        same_application(2, &a, (&a).into(), Some(1), &f).unwrap();
        let x = same_application(2, &b, (&a).into(), Some(1), &f).unwrap_err();
        assert_eq!(x.property, Safety::StateMachineSafety);
        assert_eq!(
            x.detail,
            "n2 applied (1,\"b\") at index 1, but n1 applied (1,\"a\") there"
        );
        let y = same_application(2, &b, (&a).into(), None, &f).unwrap_err();
        assert!(y.detail.contains("was applied before"), "{y:?}");
    }
}
