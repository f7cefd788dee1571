//! Small files replaced atomically and protected by a checksum: `hardstate`
//! and `snapshot`.
//!
//! Layout: `[8-byte magic][u64 payload length][u32 crc32 of payload][payload]`
//! (integers little-endian). Writing goes to `<name>.tmp`, which is fsynced,
//! renamed over `<name>`, and then the directory is fsynced, so after a crash
//! the file holds either the old or the new content, never a mix. A leftover
//! `.tmp` file is an interrupted write and is ignored (and removed on open).

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

use super::error::{Result, StorageError, io_err};

/// Suffix of the temporary file a write goes through.
pub const TMP_SUFFIX: &str = ".tmp";
const PREFIX_LEN: usize = 8 + 8 + 4;

/// fsync a directory so that renames and creations inside it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync directory", dir))
}

/// Atomically replace `dir/name` with `payload`. Costs two fsyncs (the file,
/// then the directory); returns the size of the file written.
pub fn write(dir: &Path, name: &str, magic: &[u8; 8], payload: &[u8]) -> Result<u64> {
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    let dst = dir.join(name);
    let mut bytes = Vec::with_capacity(PREFIX_LEN + payload.len());
    bytes.extend_from_slice(magic);
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io_err("create", &tmp))?;
    file.write_all(&bytes).map_err(io_err("write", &tmp))?;
    file.sync_all().map_err(io_err("fsync", &tmp))?;
    drop(file);
    fs::rename(&tmp, &dst).map_err(io_err("rename", &tmp))?;
    sync_dir(dir)?;
    Ok(bytes.len() as u64)
}

/// Read and verify `dir/name`; `Ok(None)` when it does not exist.
pub fn read(
    dir: &Path,
    name: &str,
    what: &'static str,
    magic: &[u8; 8],
) -> Result<Option<Vec<u8>>> {
    let path = dir.join(name);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("read", &path)(e)),
    };
    let corrupt = |detail: String| StorageError::CorruptFile {
        what,
        path: path.clone(),
        detail,
    };
    if bytes.len() < PREFIX_LEN {
        return Err(corrupt(format!(
            "only {} bytes, shorter than its header",
            bytes.len()
        )));
    }
    if &bytes[0..8] != magic {
        return Err(corrupt("wrong magic number (not a faultline file)".into()));
    }
    let len = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    let stored = u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes"));
    let payload = &bytes[PREFIX_LEN..];
    if payload.len() as u64 != len {
        return Err(corrupt(format!(
            "header announces {len} payload bytes, file holds {}",
            payload.len()
        )));
    }
    let computed = crc32fast::hash(payload);
    if computed != stored {
        return Err(corrupt(format!(
            "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
        )));
    }
    Ok(Some(payload.to_vec()))
}

/// Remove leftover temporary files of interrupted writes in `dir`; returns
/// how many were removed.
pub fn remove_leftovers(dir: &Path) -> Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(TMP_SUFFIX) {
            let path = entry.path();
            tracing::info!(path = %path.display(), "removing leftover temporary file of an interrupted write");
            fs::remove_file(&path).map_err(io_err("remove", &path))?;
            removed += 1;
        }
    }
    Ok(removed)
}
