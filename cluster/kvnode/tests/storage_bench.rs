//! WAL append throughput, printed rather than asserted (machines differ).
//! Run with:
//! `cargo test -p faultline-kvnode --release --test storage_bench -- --ignored --nocapture`

mod storage_common;

use std::time::{Duration, Instant};

use storage_common::{entries, hs, open_voted};

fn measure(batch: u64, duration: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_voted(dir.path());
    let fsyncs_before = s.stats().fsync_count;
    let start = Instant::now();
    let mut next = 1u64;
    while start.elapsed() < duration {
        let batch_entries = entries(next..next + batch, 1, |_| vec![7u8; 100]);
        // Commit trails by one batch, as on a leader.
        s.persist(Some(&hs(1, Some(1), next - 1)), &batch_entries, None)
            .unwrap();
        next += batch;
    }
    let secs = start.elapsed().as_secs_f64();
    let stats = s.stats();
    let entries = next - 1;
    println!(
        "batch {batch:>3} x 100 B: {:>9.0} entries/s  {:>6.2} MB/s  {:>7.0} fsyncs/s  ({} batches, {} fsyncs, {} segments, {:.1} s)",
        entries as f64 / secs,
        stats.wal_bytes_written as f64 / secs / 1e6,
        (stats.fsync_count - fsyncs_before) as f64 / secs,
        stats.batches,
        stats.fsync_count - fsyncs_before,
        stats.segment_count,
        secs
    );
}

#[test]
#[ignore = "benchmark: prints figures, run on demand"]
fn wal_append_throughput() {
    println!("WAL directory: {}", std::env::temp_dir().display());
    measure(1, Duration::from_secs(3));
    measure(64, Duration::from_secs(3));
}
