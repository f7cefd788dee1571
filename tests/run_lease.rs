//! Leader leases end to end (needs root, `ip`, `iptables` and libfaketime;
//! skipped with the reason otherwise): `--nemesis clock-partition` catches
//! the planted bug `lease-wall-clock` with the command `faultline bugs`
//! names for it (measured 20/20 invalid, README "Clock faults and leases"),
//! and afterwards no namespace or kvnode of the run is left.

mod run_support;

use run_support::{
    assert_no_netns_left, describe, netns_unavailable, only_run_dir, output_in, read_json,
    reap_kvnodes,
};

#[test]
fn clock_partition_catches_lease_wall_clock() {
    if let Some(why) = netns_unavailable() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = output_in(
        dir.path(),
        "run --read-mode lease --clock-drift 40 --nemesis clock-partition \
         --nemesis-interval 2 --time-limit 30 --attempt-timeout-ms 50 \
         --bug lease-wall-clock --seed 700",
    );
    let run = only_run_dir(&store);
    assert_eq!(reap_kvnodes(&run), 0, "kvnode processes outlived the run");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let results = read_json(&run.join("results.json"));
    assert_eq!(results["verdict"], "invalid", "{results}");
    assert!(
        results["nemesis"]["clock-partition"].as_u64().unwrap_or(0) >= 5,
        "{results}"
    );
    let test = read_json(&run.join("test.json"));
    assert_eq!(test["options"]["clock_drift_pct"], 40, "{test}");
    let id = test["netns_run"].as_str().expect("netns_run in test.json");
    assert_no_netns_left(id);
}
