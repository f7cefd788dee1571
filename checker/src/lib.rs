//! faultline-checker: history types and parsers, linearizability checking,
//! models, and the stateright Raft model.
