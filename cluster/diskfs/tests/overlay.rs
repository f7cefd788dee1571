//! The overlay's durability rules, driven without FUSE: what survives a
//! power loss is exactly what was fsynced (data by file fsync, creates /
//! renames / removals by directory fsync), and a tear keeps a seeded prefix
//! of the newest write.

use std::ffi::OsStr;
use std::fs;

use faultline_diskfs::overlay::{Overlay, ROOT_INO};

fn setup() -> (tempfile::TempDir, Overlay) {
    let dir = tempfile::tempdir().unwrap();
    let o = Overlay::new(dir.path(), 7).unwrap();
    (dir, o)
}

fn n(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn an_unsynced_write_is_read_back_but_not_on_the_backing_disk() {
    let (dir, mut o) = setup();
    let f = o.create(ROOT_INO, n("wal"), 0o644).unwrap().ino;
    o.write(f, 0, b"hello").unwrap();
    assert_eq!(o.read(f, 0, 100).unwrap(), b"hello");
    assert_eq!(o.getattr(f).unwrap().size, 5);
    assert_eq!(fs::read(dir.path().join("root/wal")).unwrap(), b"");
    assert_eq!(o.stats().unsynced_bytes, 5);
}

#[test]
fn fsync_makes_data_durable_and_a_power_loss_keeps_it() {
    let (dir, mut o) = setup();
    let f = o.create(ROOT_INO, n("wal"), 0o644).unwrap().ino;
    o.fsync_dir(ROOT_INO).unwrap();
    o.write(f, 0, b"durable").unwrap();
    o.fsync(f).unwrap();
    assert_eq!(fs::read(dir.path().join("root/wal")).unwrap(), b"durable");
    o.write(f, 7, b"-lost").unwrap();
    let loss = o.power_loss(false).unwrap();
    assert_eq!((loss.files, loss.bytes, loss.changes_undone), (1, 5, 0));
    assert_eq!(fs::read(dir.path().join("root/wal")).unwrap(), b"durable");
    let f = o.lookup(ROOT_INO, n("wal")).unwrap().ino;
    assert_eq!(o.read(f, 0, 100).unwrap(), b"durable");
    assert_eq!(o.stats().unsynced_bytes, 0);
}

#[test]
fn a_power_loss_drops_unsynced_overwrites_of_a_durable_file() {
    let (dir, mut o) = setup();
    fs::write(dir.path().join("root/data"), b"aaaaaaaa").unwrap();
    let f = o.lookup(ROOT_INO, n("data")).unwrap().ino;
    o.write(f, 2, b"bb").unwrap();
    o.write(f, 8, b"cc").unwrap();
    assert_eq!(o.read(f, 0, 100).unwrap(), b"aabbaaaacc");
    o.power_loss(false).unwrap();
    assert_eq!(fs::read(dir.path().join("root/data")).unwrap(), b"aaaaaaaa");
}

#[test]
fn a_tear_keeps_earlier_writes_and_a_seeded_prefix_of_the_newest() {
    let run = |seed| {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Overlay::new(dir.path(), seed).unwrap();
        let f = o.create(ROOT_INO, n("wal"), 0o644).unwrap().ino;
        o.fsync_dir(ROOT_INO).unwrap();
        o.write(f, 0, b"record-1;").unwrap();
        o.write(f, 9, b"record-2-is-long;").unwrap();
        let loss = o.power_loss(true).unwrap();
        let torn = loss.torn.expect("the newest write is torn");
        assert_eq!(torn.path, "wal");
        assert_eq!(torn.of, 17);
        assert!(torn.kept < 17, "a tear loses at least one byte");
        assert_eq!(loss.bytes, 17 - torn.kept);
        let on_disk = fs::read(dir.path().join("root/wal")).unwrap();
        let mut want = b"record-1;".to_vec();
        want.extend_from_slice(&b"record-2-is-long;"[..torn.kept as usize]);
        assert_eq!(on_disk, want);
        torn.kept
    };
    assert_eq!(run(3), run(3), "the same seed tears at the same byte");
    let cuts: std::collections::BTreeSet<u64> = (0..20).map(run).collect();
    assert!(cuts.len() > 3, "seeds choose different cuts: {cuts:?}");
}

#[test]
fn a_tear_leaves_other_files_without_their_unsynced_data() {
    let (dir, mut o) = setup();
    let a = o.create(ROOT_INO, n("a"), 0o644).unwrap().ino;
    let b = o.create(ROOT_INO, n("b"), 0o644).unwrap().ino;
    o.fsync_dir(ROOT_INO).unwrap();
    o.write(a, 0, b"aaaa").unwrap();
    o.write(b, 0, b"bbbb").unwrap();
    let loss = o.power_loss(true).unwrap();
    assert_eq!(loss.torn.unwrap().path, "b");
    assert_eq!(fs::read(dir.path().join("root/a")).unwrap(), b"");
    assert!(fs::read(dir.path().join("root/b")).unwrap().len() < 4);
}

#[test]
fn a_create_needs_a_directory_fsync_to_survive() {
    let (dir, mut o) = setup();
    let f = o.create(ROOT_INO, n("new"), 0o644).unwrap().ino;
    o.write(f, 0, b"x").unwrap();
    o.fsync(f).unwrap();
    let loss = o.power_loss(false).unwrap();
    assert_eq!(loss.changes_undone, 1);
    assert!(
        !dir.path().join("root/new").exists(),
        "file fsync alone does not keep the name"
    );

    let f = o.create(ROOT_INO, n("new"), 0o644).unwrap().ino;
    o.write(f, 0, b"x").unwrap();
    o.fsync(f).unwrap();
    o.fsync_dir(ROOT_INO).unwrap();
    o.power_loss(false).unwrap();
    assert_eq!(fs::read(dir.path().join("root/new")).unwrap(), b"x");
}

#[test]
fn an_unsynced_rename_over_a_file_is_undone_and_the_old_file_comes_back() {
    let (dir, mut o) = setup();
    fs::write(dir.path().join("root/hardstate"), b"term=1").unwrap();
    let t = o.create(ROOT_INO, n("hardstate.tmp"), 0o644).unwrap().ino;
    o.write(t, 0, b"term=2").unwrap();
    o.fsync(t).unwrap();
    o.rename(ROOT_INO, n("hardstate.tmp"), ROOT_INO, n("hardstate"))
        .unwrap();
    let h = o.lookup(ROOT_INO, n("hardstate")).unwrap().ino;
    assert_eq!(o.read(h, 0, 100).unwrap(), b"term=2");
    let loss = o.power_loss(false).unwrap();
    assert!(loss.undo_failures.is_empty(), "{:?}", loss.undo_failures);
    assert_eq!(
        fs::read(dir.path().join("root/hardstate")).unwrap(),
        b"term=1"
    );
    assert!(!dir.path().join("root/hardstate.tmp").exists());
    assert_eq!(fs::read_dir(dir.path().join("trash")).unwrap().count(), 0);
}

#[test]
fn a_rename_followed_by_a_directory_fsync_is_durable() {
    let (dir, mut o) = setup();
    fs::write(dir.path().join("root/hardstate"), b"term=1").unwrap();
    let t = o.create(ROOT_INO, n("hardstate.tmp"), 0o644).unwrap().ino;
    o.write(t, 0, b"term=2").unwrap();
    o.fsync(t).unwrap();
    o.rename(ROOT_INO, n("hardstate.tmp"), ROOT_INO, n("hardstate"))
        .unwrap();
    o.fsync_dir(ROOT_INO).unwrap();
    assert_eq!(
        fs::read_dir(dir.path().join("trash")).unwrap().count(),
        0,
        "the replaced file is gone for good"
    );
    o.power_loss(false).unwrap();
    assert_eq!(
        fs::read(dir.path().join("root/hardstate")).unwrap(),
        b"term=2"
    );
}

#[test]
fn a_rename_between_directories_waits_for_both() {
    let (dir, mut o) = setup();
    let a = o.mkdir(ROOT_INO, n("a"), 0o755).unwrap().ino;
    let b = o.mkdir(ROOT_INO, n("b"), 0o755).unwrap().ino;
    o.fsync_dir(ROOT_INO).unwrap();
    let f = o.create(a, n("f"), 0o644).unwrap().ino;
    o.fsync(f).unwrap();
    o.fsync_dir(a).unwrap();
    o.rename(a, n("f"), b, n("g")).unwrap();
    o.fsync_dir(b).unwrap();
    assert_eq!(o.stats().pending_changes, 1);
    o.power_loss(false).unwrap();
    assert!(dir.path().join("root/a/f").exists());
    assert!(!dir.path().join("root/b/g").exists());
}

#[test]
fn an_unsynced_unlink_is_undone_and_a_synced_one_is_not() {
    let (dir, mut o) = setup();
    fs::write(dir.path().join("root/seg1"), b"old").unwrap();
    fs::write(dir.path().join("root/seg2"), b"old").unwrap();
    o.unlink(ROOT_INO, n("seg1")).unwrap();
    assert!(o.lookup(ROOT_INO, n("seg1")).is_err());
    o.power_loss(false).unwrap();
    assert_eq!(fs::read(dir.path().join("root/seg1")).unwrap(), b"old");

    o.unlink(ROOT_INO, n("seg2")).unwrap();
    o.fsync_dir(ROOT_INO).unwrap();
    o.power_loss(false).unwrap();
    assert!(!dir.path().join("root/seg2").exists());
}

#[test]
fn an_unsynced_truncate_is_undone_and_a_synced_one_is_not() {
    let (dir, mut o) = setup();
    fs::write(dir.path().join("root/wal"), b"0123456789").unwrap();
    let f = o.lookup(ROOT_INO, n("wal")).unwrap().ino;
    o.set_size(f, 4).unwrap();
    assert_eq!(o.read(f, 0, 100).unwrap(), b"0123");
    o.power_loss(false).unwrap();
    assert_eq!(
        fs::read(dir.path().join("root/wal")).unwrap(),
        b"0123456789"
    );

    let f = o.lookup(ROOT_INO, n("wal")).unwrap().ino;
    o.set_size(f, 4).unwrap();
    o.write(f, 6, b"xy").unwrap();
    o.fsync(f).unwrap();
    o.power_loss(false).unwrap();
    assert_eq!(
        fs::read(dir.path().join("root/wal")).unwrap(),
        b"0123\0\0xy"
    );
}

#[test]
fn an_unsynced_mkdir_with_contents_vanishes() {
    let (dir, mut o) = setup();
    let d = o.mkdir(ROOT_INO, n("wal"), 0o755).unwrap().ino;
    let f = o.create(d, n("seg"), 0o644).unwrap().ino;
    o.write(f, 0, b"x").unwrap();
    o.fsync(f).unwrap();
    o.fsync_dir(d).unwrap();
    let loss = o.power_loss(false).unwrap();
    assert!(loss.undo_failures.is_empty(), "{:?}", loss.undo_failures);
    assert!(!dir.path().join("root/wal").exists());
}

#[test]
fn inode_numbers_from_before_a_power_loss_are_stale() {
    let (_dir, mut o) = setup();
    let f = o.create(ROOT_INO, n("x"), 0o644).unwrap().ino;
    o.fsync_dir(ROOT_INO).unwrap();
    o.power_loss(false).unwrap();
    assert!(o.getattr(f).is_err());
    let again = o.lookup(ROOT_INO, n("x")).unwrap().ino;
    assert_ne!(again, f, "inode numbers are not reused");
    let names: Vec<_> = o
        .readdir(ROOT_INO)
        .unwrap()
        .into_iter()
        .map(|e| e.2)
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("x")]);
}

#[test]
fn with_a_commit_interval_old_namespace_changes_survive_without_a_directory_fsync() {
    let (dir, mut o) = setup();
    o.set_commit_interval(Some(std::time::Duration::from_secs(5)));
    let d = o.mkdir(ROOT_INO, n("member"), 0o755).unwrap().ino;
    let f = o.create(d, n("wal"), 0o644).unwrap().ino;
    o.write(f, 0, b"unsynced").unwrap();
    let later = std::time::Instant::now() + std::time::Duration::from_secs(6);
    let late = o.create(ROOT_INO, n("late"), 0o644).unwrap().ino;
    let _ = late;
    // At `later` the first two changes are 6 s old, the last one too: all
    // commit; none of the unsynced data does.
    let loss = o.power_loss_at(false, later).unwrap();
    assert_eq!(loss.changes_undone, 0);
    assert_eq!(loss.bytes, 8);
    assert_eq!(fs::read(dir.path().join("root/member/wal")).unwrap(), b"");
    assert!(dir.path().join("root/late").exists());

    let young = o.create(ROOT_INO, n("young"), 0o644).unwrap().ino;
    let _ = young;
    let loss = o.power_loss_at(false, std::time::Instant::now()).unwrap();
    assert_eq!(
        loss.changes_undone, 1,
        "a change younger than the interval is undone"
    );
    assert!(!dir.path().join("root/young").exists());
}

#[test]
fn sync_all_makes_every_write_and_name_durable() {
    let (dir, mut o) = setup();
    let sub = o.mkdir(ROOT_INO, n("member"), 0o755).unwrap().ino;
    let f = o.create(sub, n("wal"), 0o644).unwrap().ino;
    o.write(f, 0, b"boot").unwrap();
    let before = o.sync_all().unwrap();
    assert_eq!(before.unsynced_bytes, 4);
    assert!(before.pending_changes >= 2, "{before:?}");
    assert_eq!(o.stats().unsynced_bytes, 0);
    assert_eq!(o.stats().pending_changes, 0);
    o.write(f, 4, b"-lost").unwrap();
    let loss = o.power_loss(false).unwrap();
    assert_eq!((loss.bytes, loss.changes_undone), (5, 0));
    assert_eq!(
        fs::read(dir.path().join("root/member/wal")).unwrap(),
        b"boot"
    );
}
