//! etcd members in network namespaces: with member 1 cut off from the
//! others, a write through the majority is not seen by a serializable read
//! on member 1 (a stale read, which etcd allows), while a linearizable read
//! there does not succeed; after the heal member 1 catches up. Skipped
//! (with a note) without root or etcd. Removes its namespaces.

mod etcd_common;

use std::time::Duration;

use etcd_common::{clients, eventually};
use faultline_harness::etcd::{CallError, EtcdCluster, EtcdOptions, find_etcd};
use faultline_harness::netns::cmd::{euid, namespaces};
use faultline_workloads::NetControl;

#[test]
fn isolated_member_serves_stale_serializable_reads_only() {
    if find_etcd().is_err() || euid() != 0 {
        eprintln!("needs root and etcd (scripts/setup.sh); skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut opts = EtcdOptions::new(3, dir.path());
    opts.netns = true;
    let mut cluster = EtcdCluster::start(opts).unwrap();
    let net = cluster.network().expect("a namespace network");
    let ns1 = net.node(1).unwrap().namespace.clone();
    assert!(namespaces().unwrap().contains(&ns1));
    cluster.wait_for_leader(Duration::from_secs(20)).unwrap();
    let c = clients(&cluster, Duration::from_secs(2));
    eventually(Duration::from_secs(10), || c[0].put("r", "old"));
    eventually(Duration::from_secs(10), || {
        match c[0].get("r", true)?.as_deref() {
            Some("old") => Ok(()),
            other => Err(CallError::Unknown(format!("member 1 has {other:?}"))),
        }
    });

    let pairs: Vec<(String, String)> = ["2", "3"]
        .iter()
        .flat_map(|o| {
            [
                ("1".to_string(), o.to_string()),
                (o.to_string(), "1".to_string()),
            ]
        })
        .collect();
    NetControl::cut(&*net, &pairs).unwrap();
    // The majority elects (or keeps) a leader and takes the write.
    eventually(Duration::from_secs(20), || c[1].put("r", "new"));
    assert_eq!(c[2].get("r", false).unwrap().as_deref(), Some("new"));
    // Member 1 still answers serializable reads, from its old state.
    assert_eq!(c[0].get("r", true).unwrap().as_deref(), Some("old"));
    assert!(
        c[0].get("r", false).is_err(),
        "an isolated member served a linearizable read"
    );

    NetControl::heal_cuts(&*net).unwrap();
    let v = eventually(Duration::from_secs(20), || c[0].get("r", false));
    assert_eq!(v.as_deref(), Some("new"));

    cluster.stop_all();
    drop(cluster);
    drop(net);
    assert!(
        !namespaces().unwrap().contains(&ns1),
        "namespace {ns1} left behind"
    );
}
