//! A per-thread scratch directory for targets that read files: under
//! `$FAULTLINE_FUZZ_SCRATCH` when set (scripts/fuzz.sh sets it for AFL, whose
//! killed children cannot clean up, and removes it afterwards), else on tmpfs
//! (`/dev/shm`) when it is writable, so a million inputs cost no disk I/O,
//! else in the system temp directory. Removed when the thread ends.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    static SCRATCH: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

fn make_root() -> tempfile::TempDir {
    if let Some(dir) = std::env::var_os("FAULTLINE_FUZZ_SCRATCH") {
        return tempfile::Builder::new()
            .prefix("faultline-fuzz-")
            .tempdir_in(&dir)
            .unwrap_or_else(|e| {
                panic!(
                    "cannot create a scratch directory in $FAULTLINE_FUZZ_SCRATCH ({dir:?}): {e}"
                )
            });
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("faultline-fuzz-")
            .tempdir_in(shm)
    {
        return dir;
    }
    tempfile::Builder::new()
        .prefix("faultline-fuzz-")
        .tempdir()
        .expect("cannot create a scratch directory in the system temp directory")
}

/// An empty directory `<scratch>/data` (emptied on every call) for one input.
pub fn fresh_dir() -> PathBuf {
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        let root = slot.get_or_insert_with(make_root);
        let dir = root.path().join("data");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .unwrap_or_else(|e| panic!("cannot empty {}: {e}", dir.display()));
        }
        std::fs::create_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        dir
    })
}
