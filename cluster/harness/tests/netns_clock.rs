//! Clock faults reach a kvnode through libfaketime: a bump shows in the
//! node's status wall clock, a strobe makes it flip between two offsets,
//! a reset brings it back; Raft keeps working meanwhile (the monotonic
//! clock is not faked).

mod netns_common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use faultline_harness::{Harness, NetnsHarness};
use faultline_workloads::NetControl;
use netns_common::harness;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The node's wall clock minus ours, in ms.
fn skew(rt: &tokio::runtime::Runtime, h: &NetnsHarness, id: u64) -> i64 {
    let before = now_ms();
    let s = rt
        .block_on(h.status(id, Duration::from_secs(2)))
        .unwrap_or_else(|e| panic!("status of {id}: {e}\n{}", h.read_log(id)));
    let after = now_ms();
    s.wall_clock_ms as i64 - (before + after) / 2
}

#[test]
fn bump_strobe_and_reset_show_in_status() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let h = harness(3, dir.path());
    let net = h.network();
    rt.block_on(h.wait_for_leader(Duration::from_secs(15)))
        .unwrap_or_else(|e| panic!("{e}\n{}", h.read_log(1)));
    assert!(skew(&rt, &h, 2).abs() < 1_000, "skewed before any fault");

    NetControl::set_clock(&*net, "2", 5_000).unwrap();
    let s = skew(&rt, &h, 2);
    assert!((4_000..6_000).contains(&s), "bump +5s shows as {s} ms");
    assert!(
        skew(&rt, &h, 1).abs() < 1_000,
        "node 1 skewed by node 2's bump"
    );
    assert_eq!(net.clock(2).unwrap(), 5_000);

    NetControl::set_clock(&*net, "2", -3_000).unwrap();
    let s = skew(&rt, &h, 2);
    assert!((-4_000..-2_000).contains(&s), "bump -3s shows as {s} ms");

    // The cluster still elects and serves with skewed wall clocks.
    rt.block_on(h.wait_for_leader(Duration::from_secs(15)))
        .unwrap();

    NetControl::strobe_clock(
        &*net,
        "3",
        (0, 20_000),
        Duration::from_millis(50),
        Duration::from_secs(30),
    )
    .unwrap();
    let (mut low, mut high) = (false, false);
    let until = Instant::now() + Duration::from_secs(10);
    while !(low && high) && Instant::now() < until {
        let s = skew(&rt, &h, 3);
        low |= s.abs() < 1_000;
        high |= (19_000..21_000).contains(&s);
    }
    assert!(low && high, "strobe seen low={low} high={high}");

    net.reset_clocks().unwrap();
    for id in 1..=3 {
        let s = skew(&rt, &h, id);
        assert!(s.abs() < 1_000, "node {id} still skewed {s} ms after reset");
    }
    assert!(NetControl::set_clock(&*net, "9", 1).is_err());
}
