//! Recovery from damaged WAL files in real kvnode processes: a torn last
//! record is truncated and the node runs; a corrupt record before the tail
//! makes kvnode refuse to start, exit non-zero and name the file and offset.

mod kv_common;

use std::io::Write;
use std::time::Duration;

use faultline_harness::Harness;
use kv_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_wal_tail_is_truncated_and_the_node_runs() {
    let mut g = start(3, &[], &[]);
    g.leader().await;
    let mut c = g.client();
    for i in 0..10 {
        ok(&mut c, put(&format!("k{i}"), "v")).await;
    }
    let leader = c.leader().unwrap();
    let victim = g.h.node_ids().into_iter().find(|&id| id != leader).unwrap();
    g.h.kill(victim).unwrap();
    let seg = wal_segments(&g.h.data_dir(victim))
        .pop()
        .expect("a WAL segment");
    // Half a record: a header announcing 64 bytes, then only 3 of them.
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[64, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9]).unwrap();
    drop(f);
    g.h.restart(victim).unwrap();
    let commit =
        g.h.status(leader, Duration::from_secs(1))
            .await
            .unwrap()
            .commit;
    assert!(wait_applied(&g, victim, commit, Duration::from_secs(10)).await);
    assert!(g.h.is_running(victim));
    assert!(
        g.h.read_log(victim).contains("torn"),
        "{}",
        g.h.read_log(victim)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_middle_record_refuses_to_start_naming_file_and_offset() {
    let mut g = start(3, &[], &[]);
    g.leader().await;
    let mut c = g.client();
    for i in 0..10 {
        ok(&mut c, put(&format!("k{i}"), "v")).await;
    }
    let victim = g.h.node_ids()[0];
    g.h.kill(victim).unwrap();
    let seg = wal_segments(&g.h.data_dir(victim)).remove(0);
    let mut bytes = std::fs::read(&seg).unwrap();
    let first_len = u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    assert!(
        first_len > 1 && bytes.len() > 8 + first_len + 8,
        "more than one record"
    );
    bytes[8 + first_len / 2] ^= 0xff; // inside the first record's payload
    std::fs::write(&seg, &bytes).unwrap();
    g.h.restart(victim).unwrap();
    let status = g.h.wait_exit(victim, Duration::from_secs(10)).unwrap();
    let status = status.expect("kvnode must exit");
    assert!(!status.success(), "{status:?}");
    let log = g.h.read_log(victim);
    let name = seg.file_name().unwrap().to_string_lossy().to_string();
    assert!(log.contains(&name) && log.contains("offset 0"), "{log}");
    // The rest of the group still serves.
    ok(&mut c, put("after", "v")).await;
}
