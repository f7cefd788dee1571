//! libfaketime control: finding the preload library, the environment a
//! kvnode is started with, and the per-node control file whose content is
//! the node's clock offset (`+1.500` / `-0.250`: seconds relative to the
//! real clock, libfaketime's relative-offset format). With
//! `FAKETIME_NO_CACHE=1` the node rereads the file on every clock read, so
//! a rewrite takes effect at once; a strobe is a thread that keeps
//! rewriting it, and so is a drift (a clock running fast or slow by a
//! rate: [`Strobe::drift`]).
//!
//! By default `FAKETIME_DONT_FAKE_MONOTONIC=1` is set: only the wall clock
//! (`CLOCK_REALTIME`, what `SystemTime::now()` reads) is skewed, while
//! `CLOCK_MONOTONIC` (tokio timers, `Instant`, the Raft tick) runs true.
//! Faking the monotonic clock too ([`ClockEnv::fake_monotonic`]) makes a
//! forward bump fire every pending timer at once (election timeouts expire,
//! leases and heartbeat deadlines look overdue) and a backward bump stall
//! them for the size of the jump (a node stops ticking, like a pause).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::error::NetnsError;

/// Places the Debian/Ubuntu, Fedora and source builds install it.
const CANDIDATES: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib64/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/libfaketime.so.1",
];

/// The path of `libfaketime.so.1` on this machine.
pub fn find_libfaketime() -> Result<PathBuf, NetnsError> {
    if let Some(p) = std::env::var_os("FAULTLINE_LIBFAKETIME").map(PathBuf::from)
        && p.is_file()
    {
        return Ok(p);
    }
    let multiarch = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("faketime/libfaketime.so.1"));
    CANDIDATES
        .iter()
        .map(PathBuf::from)
        .chain(multiarch)
        .find(|p| p.is_file())
        .ok_or_else(|| NetnsError::FaketimeMissing {
            looked: format!(
                "$FAULTLINE_LIBFAKETIME, {}, /usr/lib/*/faketime",
                CANDIDATES.join(", ")
            ),
        })
}

/// libfaketime's relative offset for `ms` milliseconds (`+1.500`, `-0.250`).
pub fn format_offset(ms: i64) -> String {
    let sign = if ms < 0 { '-' } else { '+' };
    let abs = ms.unsigned_abs();
    format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
}

/// libfaketime's relative offset for `us` microseconds (`+1.500250`).
pub fn format_offset_us(us: i64) -> String {
    let sign = if us < 0 { '-' } else { '+' };
    let abs = us.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
}

/// How kvnodes run under libfaketime.
#[derive(Debug, Clone)]
pub struct ClockEnv {
    pub library: PathBuf,
    /// Also fake `CLOCK_MONOTONIC` (off by default; see the module docs).
    pub fake_monotonic: bool,
}

impl ClockEnv {
    /// `NAME=value` pairs for a node controlled by `file`.
    pub fn vars(&self, file: &Path) -> Vec<String> {
        let mut v = vec![
            format!("LD_PRELOAD={}", self.library.display()),
            format!("FAKETIME_TIMESTAMP_FILE={}", file.display()),
            "FAKETIME_NO_CACHE=1".to_string(),
        ];
        if !self.fake_monotonic {
            v.push("FAKETIME_DONT_FAKE_MONOTONIC=1".to_string());
        }
        v
    }
}

/// Write `ms` into the control file at `path` (atomically: a reader sees the
/// old or the new offset, never a torn one).
pub fn write_offset(path: &Path, ms: i64) -> Result<(), NetnsError> {
    write_text(path, &format_offset(ms))
}

/// [`write_offset`] with microseconds (`+1.500250`; libfaketime reads the
/// fraction to the nanosecond).
pub fn write_offset_us(path: &Path, us: i64) -> Result<(), NetnsError> {
    write_text(path, &format_offset_us(us))
}

fn write_text(path: &Path, offset: &str) -> Result<(), NetnsError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{offset}\n")).map_err(NetnsError::io("write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(NetnsError::io("rename", path))
}

/// How often a drifting clock's offset is rewritten.
pub const DRIFT_STEP: Duration = Duration::from_millis(1);
/// The most a drifting clock's offset moves in one rewrite (µs): below the
/// millisecond by which kvnode's lease clock must go back before it treats
/// the lease as lost.
pub const DRIFT_MAX_CHANGE_US: i64 = 800;

/// Writes one clock offset (µs) wherever a node reads it; failures are
/// logged by the writer.
pub type OffsetWriter = Arc<dyn Fn(i64) + Send + Sync>;

/// The writer of the local control file `path`.
fn file_writer(path: PathBuf) -> OffsetWriter {
    Arc::new(move |us| {
        if let Err(e) = write_offset_us(&path, us) {
            tracing::warn!(error = %e, "clock strobe");
        }
    })
}

/// A thread flipping a control file between two offsets, or drifting it.
#[derive(Debug)]
pub struct Strobe {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Strobe {
    /// Flip `path` between `a` and `b` ms every `period` for `duration`,
    /// then leave it at `a`.
    pub fn start(path: PathBuf, a: i64, b: i64, period: Duration, duration: Duration) -> Strobe {
        Strobe::start_with(file_writer(path), a, b, period, duration)
    }

    /// [`Strobe::start`] with the offsets written by `write` (e.g. to a
    /// control file on a remote host).
    pub fn start_with(
        write: OffsetWriter,
        a: i64,
        b: i64,
        period: Duration,
        duration: Duration,
    ) -> Strobe {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let period = period.max(Duration::from_millis(1));
        let handle = std::thread::spawn(move || {
            let until = Instant::now() + duration;
            let mut high = true;
            while !flag.load(Ordering::Relaxed) && Instant::now() < until {
                write(if high { b } else { a } * 1000);
                high = !high;
                let next = Instant::now() + period;
                while !flag.load(Ordering::Relaxed) && Instant::now() < next.min(until) {
                    std::thread::sleep(Duration::from_millis(5).min(period));
                }
            }
            write(a * 1000);
        });
        Strobe {
            stop,
            handle: Some(handle),
        }
    }

    /// Make the clock behind `path` run at `rate_pct` % of real time for
    /// `duration`, starting from offset `base` ms: every [`DRIFT_STEP`] the
    /// offset moves by `(rate − 100) %` of the real time since the last
    /// rewrite, in microseconds, by at most [`DRIFT_MAX_CHANGE_US`]. So the
    /// clock never jumps by more than that (a slow clock never seems to go
    /// back by a millisecond, which kvnode would take as a clock set back),
    /// and when the thread is held up (a loaded host) the clock runs true
    /// meanwhile instead of catching up at once: over any span its rate lies
    /// between 100 % and `rate_pct`, never beyond. It keeps the offset it
    /// reached. libfaketime's own `x` rate is not used: changing it at run
    /// time makes the clock jump by the time since the process started
    /// times the change, and `FAKETIME_XRESET`, which smooths that, drops
    /// the offset (measured with libfaketime 0.9.10).
    pub fn drift(path: PathBuf, base: i64, rate_pct: u32, duration: Duration) -> Strobe {
        Strobe::drift_with(file_writer(path), base, rate_pct, duration, DRIFT_STEP)
    }

    /// [`Strobe::drift`] with the offsets written by `write` every `step`.
    pub fn drift_with(
        write: OffsetWriter,
        base: i64,
        rate_pct: u32,
        duration: Duration,
        step: Duration,
    ) -> Strobe {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let per_cent = i64::from(rate_pct) - 100;
            let mut offset_us = base * 1000;
            let mut last = start;
            while !flag.load(Ordering::Relaxed) && start.elapsed() < duration {
                std::thread::sleep(step);
                let now = Instant::now().min(start + duration);
                let gap_us = now.duration_since(last).as_micros() as i64;
                last = now;
                offset_us +=
                    (gap_us * per_cent / 100).clamp(-DRIFT_MAX_CHANGE_US, DRIFT_MAX_CHANGE_US);
                write(offset_us);
            }
        });
        Strobe {
            stop,
            handle: Some(handle),
        }
    }

    /// End the strobe now (the file is left at its first offset).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Strobe {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_libfaketime_format() {
        assert_eq!(format_offset(1500), "+1.500");
        assert_eq!(format_offset(-250), "-0.250");
        assert_eq!(format_offset(0), "+0.000");
        assert_eq!(format_offset(-12_005), "-12.005");
    }

    #[test]
    fn drift_moves_the_offset_at_most_at_the_rate() {
        assert_eq!(format_offset_us(-1_500_250), "-1.500250");
        assert_eq!(format_offset_us(700), "+0.000700");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("clock");
        write_offset(&f, 0).unwrap();
        let read = || -> f64 { std::fs::read_to_string(&f).unwrap().trim().parse().unwrap() };
        let mut s = Strobe::drift(f.clone(), 100, 120, Duration::from_millis(400));
        std::thread::sleep(Duration::from_millis(600));
        s.stop();
        // 400 ms at 120 %: at most 80 ms ahead of where it started (less
        // when the thread was held up).
        let ahead = read() - 0.100;
        assert!(ahead > 0.0 && ahead <= 0.080 + 1e-6, "{ahead}");
        // A slow clock's offset only goes down, in small steps.
        write_offset(&f, 0).unwrap();
        let mut s = Strobe::drift(f.clone(), 0, 80, Duration::from_secs(5));
        let mut prev = 0.0;
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(2));
            let now = read();
            assert!(now <= prev && prev - now <= 0.100, "{prev} -> {now}");
            prev = now;
        }
        s.stop();
        assert!(prev < 0.0);
    }

    #[test]
    fn strobe_flips_and_settles() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("clock");
        write_offset(&f, 0).unwrap();
        let mut s = Strobe::start(
            f.clone(),
            0,
            800,
            Duration::from_millis(20),
            Duration::from_secs(5),
        );
        let mut seen = std::collections::BTreeSet::new();
        let until = Instant::now() + Duration::from_secs(5);
        while seen.len() < 2 && Instant::now() < until {
            if let Ok(s) = std::fs::read_to_string(&f) {
                seen.insert(s);
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        s.stop();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "+0.000000\n");
    }
}
