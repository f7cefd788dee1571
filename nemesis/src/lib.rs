//! faultline-nemesis: faults and fault schedules.
//!
//! It will own the fault packages (kill, pause, partition, clock, packet loss,
//! shard moves), each with its schedule, final heal and plot colour.
