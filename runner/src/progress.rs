//! Progress of a running test: an indicatif bar over the run's time with
//! ops/s, ok/fail/info counts and the faults in force when stdout is a
//! terminal; otherwise a plain line every few seconds.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faultline_workloads::Stats;
use indicatif::{ProgressBar, ProgressStyle};

/// Period of the plain lines.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn line(stats: &Stats, active: &Mutex<Vec<String>>, elapsed: Duration) -> String {
    let c = stats.counts();
    let secs = elapsed.as_secs_f64().max(0.001);
    let faults = active.lock().unwrap_or_else(|p| p.into_inner()).join(",");
    format!(
        "{:>6.1} ops/s  ok {}  fail {}  info {}  fault: {}",
        c.total() as f64 / secs,
        c.ok,
        c.fail,
        c.info,
        if faults.is_empty() { "-" } else { &faults }
    )
}

impl Progress {
    /// Start reporting on a run of `time_limit` that began at `start`.
    pub fn start(
        stats: Arc<Stats>,
        active: Arc<Mutex<Vec<String>>>,
        start: Instant,
        time_limit: Duration,
    ) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let terminal = std::io::stdout().is_terminal();
        let thread = std::thread::spawn(move || {
            if terminal {
                let bar = ProgressBar::new(time_limit.as_secs().max(1));
                bar.set_style(
                    ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len}s {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                while !flag.load(Ordering::Relaxed) {
                    bar.set_position(start.elapsed().as_secs().min(time_limit.as_secs()));
                    bar.set_message(line(&stats, &active, start.elapsed()));
                    std::thread::sleep(Duration::from_millis(200));
                }
                bar.finish_and_clear();
            } else {
                let mut next = Instant::now() + PLAIN_EVERY;
                while !flag.load(Ordering::Relaxed) {
                    if Instant::now() >= next {
                        let e = start.elapsed();
                        println!(
                            "[{:>4}s/{}s] {}",
                            e.as_secs(),
                            time_limit.as_secs(),
                            line(&stats, &active, e)
                        );
                        next += PLAIN_EVERY;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        });
        Progress {
            done,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}
