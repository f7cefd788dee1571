//! faultline-workloads: operation generators, clients and history recording.
//!
//! It will own the `register` and `append` workloads and the streaming
//! `history.jsonl` recorder.
