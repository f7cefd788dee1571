//! The real thing: the `faultline-diskfs` binary mounted with FUSE. A file
//! written without fsync vanishes at a power loss and a synced one stays;
//! stopping the server unmounts; a SIGKILLed server leaves an orphan mount
//! that the mount finder sees and unmounts. Needs root and /dev/fuse (the
//! test says which is missing and checks nothing else without them).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_diskfs::{control, mounts};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn missing() -> Option<&'static str> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root (mounting FUSE without fusermount3 needs root)");
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("/dev/fuse is missing");
    }
    None
}

struct Server {
    child: Child,
    mount: PathBuf,
    control: PathBuf,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mount = dir.join("data");
        let control = dir.join("ctl.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_faultline-diskfs"))
            .args(["--backing", &dir.join("disk").display().to_string()])
            .args(["--mount", &mount.display().to_string()])
            .args(["--control", &control.display().to_string()])
            .args(["--seed", "9", "--commit-interval-ms", "0"])
            .stdin(Stdio::null())
            .spawn()
            .expect("start faultline-diskfs");
        let s = Server {
            child,
            mount,
            control,
        };
        let until = Instant::now() + Duration::from_secs(10);
        while control::request(&s.control, "ping", Duration::from_secs(1)).is_err()
            || !mounts::is_mounted(&s.mount)
        {
            assert!(Instant::now() < until, "diskfs did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    fn signal(&mut self, sig: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), sig).unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
        let _ = self.child.wait();
        if mounts::is_mounted(&self.mount) {
            let _ = mounts::unmount(&self.mount);
        }
    }
}

fn sync_dir(p: &Path) {
    File::open(p).unwrap().sync_all().unwrap();
}

#[test]
fn unsynced_writes_vanish_at_a_power_loss_and_synced_ones_stay() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path());
    let data = s.mount.clone();

    // durable: written, fsynced, directory fsynced
    let mut f = File::create(data.join("synced")).unwrap();
    f.write_all(b"kept").unwrap();
    f.sync_all().unwrap();
    sync_dir(&data);
    // then appended to without fsync
    f.write_all(b"-lost").unwrap();
    drop(f);
    // never synced at all
    fs::write(data.join("unsynced"), b"gone").unwrap();
    // renamed over a durable file without a directory fsync
    fs::write(data.join("state"), b"old").unwrap();
    File::open(data.join("state")).unwrap().sync_all().unwrap();
    sync_dir(&data);
    let mut t = File::create(data.join("state.tmp")).unwrap();
    t.write_all(b"new").unwrap();
    t.sync_all().unwrap();
    drop(t);
    fs::rename(data.join("state.tmp"), data.join("state")).unwrap();
    // created after the last directory fsync
    fs::write(data.join("late"), b"late").unwrap();

    assert_eq!(fs::read(data.join("synced")).unwrap(), b"kept-lost");
    assert_eq!(fs::read(data.join("unsynced")).unwrap(), b"gone");
    assert_eq!(fs::read(data.join("state")).unwrap(), b"new");
    let stats = control::request(&s.control, "stats", Duration::from_secs(5)).unwrap();
    assert!(stats["unsynced_bytes"].as_u64().unwrap() >= 9, "{stats}");

    let loss = control::lose_unsynced(&s.control, false).unwrap();
    assert!(loss["bytes"].as_u64().unwrap() >= 9, "{loss}");

    assert_eq!(fs::read(data.join("synced")).unwrap(), b"kept");
    // its name was made durable by a later directory fsync, its data never
    assert_eq!(fs::read(data.join("unsynced")).unwrap(), b"");
    assert!(!data.join("late").exists());
    assert_eq!(fs::read(data.join("state")).unwrap(), b"old");
    assert!(!data.join("state.tmp").exists());
    // the backing folder holds the same
    assert_eq!(
        fs::read(dir.path().join("disk/root/synced")).unwrap(),
        b"kept"
    );

    s.signal(Signal::SIGTERM);
    assert!(!mounts::is_mounted(&s.mount), "SIGTERM unmounts");
    assert!(!s.control.exists(), "the socket is removed");
}

#[test]
fn a_torn_write_keeps_a_prefix_through_the_mount() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let p = s.mount.join("wal");
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .unwrap();
    sync_dir(&s.mount);
    f.write_all(b"0123456789").unwrap();
    f.sync_all().unwrap();
    f.write_all(b"abcdefghijklmnopqrstuvwxyz").unwrap();
    drop(f);
    let loss = control::lose_unsynced(&s.control, true).unwrap();
    let kept = loss["torn"]["kept"].as_u64().unwrap() as usize;
    assert_eq!(loss["torn"]["of"], 26, "{loss}");
    let mut want = b"0123456789".to_vec();
    want.extend_from_slice(&b"abcdefghijklmnopqrstuvwxyz"[..kept]);
    assert_eq!(fs::read(&p).unwrap(), want);
}

#[test]
fn a_killed_server_leaves_an_orphan_mount_that_is_found_and_removed() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path());
    let pid = s.child.id();
    let mine = |m: &mounts::DiskMount| m.pid == Some(pid);
    assert!(mounts::list().iter().any(mine));
    assert!(
        !mounts::orphans().iter().any(mine),
        "a live server's mount is no orphan"
    );
    s.signal(Signal::SIGKILL);
    assert!(mounts::is_mounted(&s.mount), "SIGKILL cannot unmount");
    let orphan = mounts::orphans()
        .into_iter()
        .find(|m| mine(m))
        .expect("orphan found");
    mounts::unmount(&orphan.mountpoint).unwrap();
    assert!(!mounts::is_mounted(&s.mount));
    assert!(fs::read_dir(&s.mount).unwrap().next().is_none());
}
