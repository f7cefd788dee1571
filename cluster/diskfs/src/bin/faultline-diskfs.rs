//! `faultline-diskfs`: mount the power-loss file system over `--mount`,
//! backed by `--backing`, controlled through `--control` (see the crate
//! docs). Runs until SIGTERM / SIGINT / SIGHUP, until its parent dies, or
//! until the mount is taken away; then unmounts and removes the socket.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use faultline_diskfs::fuse::DiskFs;
use faultline_diskfs::{FS_NAME, Overlay, control, mounts};
use fuser::{Config, MountOption};

#[derive(Parser, Debug)]
#[command(
    name = "faultline-diskfs",
    about = "FUSE file system that loses unsynced data on command"
)]
struct Args {
    /// Folder holding the durable tree (`root/`) and pending removals (`trash/`).
    #[arg(long)]
    backing: PathBuf,
    /// Where to mount (created when missing; must be empty).
    #[arg(long)]
    mount: PathBuf,
    /// Unix socket for `drop`, `drop tear`, `stats`, `ping`.
    #[arg(long)]
    control: PathBuf,
    /// Seed for where tears cut.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Namespace changes (create, rename, unlink, mkdir) this many ms old
    /// are durable without a directory fsync, like a journaling file
    /// system's periodic commit (ext4: 5000); 0: only a directory fsync
    /// makes them durable (strict POSIX). File data always needs an fsync.
    #[arg(long, default_value_t = 5000)]
    commit_interval_ms: u64,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if !std::path::Path::new("/dev/fuse").exists() {
        bail!(
            "/dev/fuse is missing: load the fuse module (modprobe fuse) or run where FUSE is available"
        );
    }
    std::fs::create_dir_all(&args.mount)
        .with_context(|| format!("create mount point {}", args.mount.display()))?;
    if std::fs::read_dir(&args.mount)?.next().is_some() {
        bail!(
            "mount point {} is not empty; diskfs would hide its files (move them into {}/root)",
            args.mount.display(),
            args.backing.display()
        );
    }
    let mut overlay = Overlay::new(&args.backing, args.seed)
        .with_context(|| format!("open backing folder {}", args.backing.display()))?;
    overlay.set_commit_interval(
        (args.commit_interval_ms > 0).then(|| Duration::from_millis(args.commit_interval_ms)),
    );
    tracing::info!(seed = args.seed, commit_interval_ms = args.commit_interval_ms, backing = %args.backing.display(), mount = %args.mount.display(), "diskfs starting");
    let shared = Arc::new(Mutex::new(overlay));
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::FSName(format!("{FS_NAME}@{}", std::process::id())),
        MountOption::RW,
    ];
    config.n_threads = Some(1);
    let session = fuser::spawn_mount(DiskFs::new(shared.clone()), &args.mount, &config)
        .with_context(|| {
            format!(
                "mount FUSE at {} (needs root or fusermount3, and /dev/fuse)",
                args.mount.display()
            )
        })?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).context("signal handler")?;
    control::serve(&args.control, shared).context("control socket")?;
    tracing::info!(control = %args.control.display(), "diskfs mounted");
    let parent = nix::unistd::getppid();
    let mut why = "signal";
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if nix::unistd::getppid() != parent {
            why = "parent exited";
            break;
        }
        if session.guard.is_finished() {
            why = "mount gone";
            break;
        }
    }
    tracing::info!(why, "diskfs stopping");
    if let Err(e) = session.umount_and_join() {
        tracing::warn!(error = %e, "unmount");
    }
    if mounts::is_mounted(&args.mount) {
        mounts::unmount(&args.mount).context("detach mount")?;
    }
    let _ = std::fs::remove_file(&args.control);
    Ok(())
}
