//! etcd as a second system under test: [`EtcdCluster`] starts, kills,
//! pauses and restarts etcd members as processes (on 127.0.0.1 ports, or
//! one per network namespace of the run's [`Network`](crate::netns::Network)),
//! with data directories and logs in the run folder
//! (`<run>/nodes/<name>/{data,node.log}`); [`EtcdClient`] talks to one
//! member through etcd's v3 JSON gateway (HTTP, base64 keys and values);
//! [`bench_etcd`] runs `faultline bench kv`'s load shape against a cluster.
//! Members are named `1..=n` so the namespace network's node names apply.

mod client;
mod cluster;
mod error;
mod load;

pub use client::{CallError, EtcdClient, EtcdStatus};
pub use cluster::{EtcdCluster, EtcdOptions, find_etcd};
pub use error::EtcdError;
pub use load::{bench_etcd, run_etcd_load};
