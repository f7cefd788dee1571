//! Helpers of the etcd tests: a client per member, and retrying a call
//! while the cluster settles (an election, a heal).

#![allow(dead_code)]

use std::time::{Duration, Instant};

use faultline_harness::etcd::{CallError, EtcdClient, EtcdCluster};

/// One client per member, in the order of `client_urls`, each giving up on
/// a call after `timeout`.
pub fn clients(cluster: &EtcdCluster, timeout: Duration) -> Vec<EtcdClient> {
    cluster
        .client_urls()
        .values()
        .map(|u| EtcdClient::new(u, timeout))
        .collect()
}

/// Retry `f` until it succeeds or `timeout` passes (a new leader takes a moment).
pub fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Result<T, CallError>) -> T {
    let until = Instant::now() + timeout;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() >= until => panic!("still failing after {timeout:?}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
