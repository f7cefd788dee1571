//! Running a target: inputs from the [`Mutator`], each fed to the target
//! inside `catch_unwind`; panics are counted and grouped by where they
//! happened, the slowest input is remembered, and an abort (stack overflow,
//! failed allocation) prints which input of which seed caused it before the
//! process dies, so it can be made again with `faultline-fuzz input`.

use std::cell::{Cell, RefCell};
use std::os::fd::BorrowedFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::time::{Duration, Instant};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use crate::mutate::Mutator;
use crate::targets::{TARGETS, Target};

/// How long and with which seed to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub seed: u64,
    /// Stop after this many inputs.
    pub inputs: Option<u64>,
    /// Stop after this long (checked every 64 inputs).
    pub time: Option<Duration>,
    /// Print a progress line to stderr every this often.
    pub progress: Option<Duration>,
}

/// One place the target panicked.
#[derive(Debug, Clone)]
pub struct PanicSite {
    /// `file:line:column` of the panic.
    pub location: String,
    pub message: String,
    /// Inputs that panicked here.
    pub count: u64,
    /// The first input that panicked here and its index in the run.
    pub first_index: u64,
    pub first_input: Vec<u8>,
}

/// What a run found.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub target: &'static str,
    pub seed: u64,
    /// Inputs fed to the target.
    pub inputs: u64,
    /// Inputs that panicked.
    pub panics: u64,
    pub sites: Vec<PanicSite>,
    pub elapsed: Duration,
    /// The slowest input: its time and index.
    pub slowest: (Duration, u64),
}

impl RunReport {
    /// Inputs per second.
    pub fn rate(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

thread_local! {
    /// `Some` while this thread feeds a target: the hook stores the panic here.
    static CAPTURE: RefCell<Option<Option<(String, String)>>> = const { RefCell::new(None) };
    /// (target index + 1, seed, input index) for the abort note; 0: not running.
    static RUNNING: Cell<(usize, u64, u64)> = const { Cell::new((0, 0, 0)) };
}

/// Install (once) a panic hook that records panics of a thread that is
/// feeding a target, and leaves every other panic to the previous hook.
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                "(a panic without a message)".to_string()
            };
            let location = info
                .location()
                .map_or_else(|| "unknown".to_string(), |l| l.to_string());
            let captured = CAPTURE
                .try_with(|c| match c.try_borrow_mut() {
                    Ok(mut slot) if slot.is_some() => {
                        *slot = Some(Some((location.clone(), message.clone())));
                        true
                    }
                    _ => false,
                })
                .unwrap_or(false);
            if !captured {
                previous(info);
            }
        }));
    });
}

/// Install (once) a SIGABRT handler that names the input being fed.
fn install_abort_note() {
    static NOTE: Once = Once::new();
    NOTE.call_once(|| {
        // SAFETY: installs a handler that only reads a thread-local `Cell` of
        // plain integers and calls `write(2)`, both async-signal-safe here.
        let action = SigAction::new(
            SigHandler::Handler(on_abort),
            SaFlags::SA_ONSTACK | SaFlags::SA_RESETHAND,
            SigSet::empty(),
        );
        // An error leaves the default abort, which still stops the process.
        let _ = unsafe { sigaction(Signal::SIGABRT, &action) };
    });
}

/// Appends the decimal digits of `v` to `buf` at `at`; returns the new end.
fn put_u64(buf: &mut [u8], mut at: usize, v: u64) -> usize {
    let mut digits = [0u8; 20];
    let mut n = 0;
    let mut v = v;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    while n > 0 && at < buf.len() {
        n -= 1;
        buf[at] = digits[n];
        at += 1;
    }
    at
}

fn put(buf: &mut [u8], at: usize, s: &[u8]) -> usize {
    let n = s.len().min(buf.len() - at);
    buf[at..at + n].copy_from_slice(&s[..n]);
    at + n
}

extern "C" fn on_abort(_signal: std::ffi::c_int) {
    let Ok((target, seed, index)) = RUNNING.try_with(Cell::get) else {
        return;
    };
    let Some(t) = target.checked_sub(1).and_then(|i| TARGETS.get(i)) else {
        return;
    };
    let mut buf = [0u8; 512];
    let mut at = put(
        &mut buf,
        0,
        b"\nfaultline-fuzz: the process aborted in target ",
    );
    at = put(&mut buf, at, t.name.as_bytes());
    at = put(&mut buf, at, b" on input #");
    at = put_u64(&mut buf, at, index);
    at = put(&mut buf, at, b" of seed ");
    at = put_u64(&mut buf, at, seed);
    at = put(
        &mut buf,
        at,
        b"; write it out with: faultline-fuzz input --seed ",
    );
    at = put_u64(&mut buf, at, seed);
    at = put(&mut buf, at, b" --index ");
    at = put_u64(&mut buf, at, index);
    at = put(&mut buf, at, b" ");
    at = put(&mut buf, at, t.name.as_bytes());
    at = put(&mut buf, at, b" FILE\n");
    // SAFETY: fd 2 (stderr) stays open for the life of the process.
    let stderr = unsafe { BorrowedFd::borrow_raw(2) };
    let _ = nix::unistd::write(stderr, &buf[..at]);
}

/// Feed one input to `target`; `Some((location, message))` if it panicked.
pub fn feed(target: &Target, input: &[u8]) -> Option<(String, String)> {
    install_panic_hook();
    CAPTURE.with(|c| *c.borrow_mut() = Some(None));
    let result = catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    let captured = CAPTURE.with(|c| c.borrow_mut().take()).flatten();
    match result {
        Ok(()) => None,
        Err(_) => Some(captured.unwrap_or_else(|| ("unknown".into(), "(no message)".into()))),
    }
}

/// Stack of the thread that feeds a target: smaller than a main thread's
/// (8 MiB) and a test thread's (2 MiB), so recursion that grows with the
/// input is caught even when a long input still fits a big stack.
pub const FEED_STACK: usize = 1 << 20;

/// Run `target` as `opts` say, on a thread with a [`FEED_STACK`] stack. With
/// neither `inputs` nor `time`, runs the target's short pass
/// (`short_inputs`).
pub fn run(target: &'static Target, opts: &RunOptions) -> RunReport {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(format!("fuzz-{}", target.name))
            .stack_size(FEED_STACK)
            .spawn_scoped(scope, || run_here(target, opts))
            .expect("cannot spawn the fuzz thread")
            .join()
            .expect("the fuzz thread panicked outside a target")
    })
}

fn run_here(target: &'static Target, opts: &RunOptions) -> RunReport {
    install_panic_hook();
    install_abort_note();
    let position = TARGETS
        .iter()
        .position(|t| t.name == target.name)
        .map_or(0, |i| i + 1);
    let limit = match (opts.inputs, opts.time) {
        (None, None) => Some(target.short_inputs),
        (n, _) => n,
    };
    let seeds = target.all_seeds();
    let mutator = Mutator::new(target, &seeds);
    let start = Instant::now();
    let mut last_progress = start;
    let mut report = RunReport {
        target: target.name,
        seed: opts.seed,
        inputs: 0,
        panics: 0,
        sites: Vec::new(),
        elapsed: Duration::ZERO,
        slowest: (Duration::ZERO, 0),
    };
    let mut input = Vec::new();
    let mut index = 0u64;
    loop {
        if limit.is_some_and(|n| index >= n) {
            break;
        }
        if index.is_multiple_of(64) {
            let now = Instant::now();
            if opts.time.is_some_and(|t| now - start >= t) {
                break;
            }
            if let Some(every) = opts.progress
                && now - last_progress >= every
            {
                last_progress = now;
                eprintln!(
                    "  {}: {index} inputs, {} panics, {:.0}/s",
                    target.name,
                    report.panics,
                    index as f64 / (now - start).as_secs_f64()
                );
            }
        }
        mutator.input(opts.seed, index, &mut input);
        RUNNING.with(|r| r.set((position, opts.seed, index)));
        let began = Instant::now();
        let outcome = feed(target, &input);
        let took = began.elapsed();
        RUNNING.with(|r| r.set((0, 0, 0)));
        if took > report.slowest.0 {
            report.slowest = (took, index);
        }
        if let Some((location, message)) = outcome {
            report.panics += 1;
            match report.sites.iter_mut().find(|s| s.location == location) {
                Some(site) => site.count += 1,
                None => report.sites.push(PanicSite {
                    location,
                    message,
                    count: 1,
                    first_index: index,
                    first_input: input.clone(),
                }),
            }
        }
        index += 1;
    }
    report.inputs = index;
    report.elapsed = start.elapsed();
    report
}

/// A short rendering of an input for messages: printable text as is, other
/// bytes escaped, cut after `max` bytes.
pub fn show_input(input: &[u8], max: usize) -> String {
    let cut = &input[..input.len().min(max)];
    let mut s: String = cut.escape_ascii().to_string();
    if input.len() > max {
        s.push_str(&format!("... ({} bytes in all)", input.len()));
    }
    s
}
