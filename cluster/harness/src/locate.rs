//! Finding the `kvnode` (and `faultline-diskfs`) binary: next to the current executable (the same
//! cargo target directory; for test binaries in `target/<profile>/deps`, one
//! level up), then on `PATH`.

use std::path::PathBuf;

use super::error::HarnessError;

/// The path of the kvnode binary, or an error saying how to build it.
pub fn find_kvnode() -> Result<PathBuf, HarnessError> {
    find_binary("kvnode").ok_or_else(|| HarnessError::KvnodeMissing {
        exe: std::env::current_exe()
            .unwrap_or_default()
            .display()
            .to_string(),
    })
}

/// The path of binary `name`: next to the current executable, one level up,
/// then on `PATH`.
pub(crate) fn find_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().unwrap_or_default();
    let mut candidates = Vec::new();
    if let Some(dir) = exe.parent() {
        candidates.push(dir.join(name));
        if let Some(up) = dir.parent() {
            candidates.push(up.join(name));
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join(name)));
    }
    candidates.into_iter().find(|p| p.is_file())
}
