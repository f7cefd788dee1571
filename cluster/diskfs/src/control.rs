//! The control socket of a running diskfs: a unix socket that takes one
//! command per line and answers one JSON line. Commands: `drop` (power
//! loss), `drop tear` (power loss tearing the newest write), `sync`
//! (everything unsynced becomes durable, as `sync(1)`; answers what was
//! unsynced), `stats` (what is unsynced), `ping`. Errors come back as
//! `{"error": "..."}`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{DiskError, Result};
use crate::overlay::Overlay;

/// Answer one command line.
pub fn execute(overlay: &Mutex<Overlay>, line: &str) -> Value {
    let mut o = overlay.lock().unwrap_or_else(|p| p.into_inner());
    let words: Vec<&str> = line.split_whitespace().collect();
    let res = match words.as_slice() {
        ["ping"] => Ok(json!({"ok": true})),
        ["stats"] => serde_json::to_value(o.stats()).map_err(|e| e.to_string()),
        ["sync"] => o
            .sync_all()
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::to_value(s).map_err(|e| e.to_string())),
        ["drop"] => o
            .power_loss(false)
            .map_err(|e| e.to_string())
            .and_then(|l| serde_json::to_value(l).map_err(|e| e.to_string())),
        ["drop", "tear"] => o
            .power_loss(true)
            .map_err(|e| e.to_string())
            .and_then(|l| serde_json::to_value(l).map_err(|e| e.to_string())),
        _ => Err(format!(
            "unknown command {line:?}; commands: ping, stats, sync, drop, drop tear"
        )),
    };
    match res {
        Ok(v) => {
            if words.first() == Some(&"drop") {
                tracing::info!(loss = %v, "power loss");
            }
            v
        }
        Err(e) => json!({ "error": e }),
    }
}

/// Listen on `path` (a stale socket file there is replaced) and answer
/// commands on a background thread for the life of the process.
pub fn serve(path: &Path, overlay: Arc<Mutex<Overlay>>) -> Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).map_err(DiskError::io("bind", path))?;
    std::thread::Builder::new()
        .name("diskfs-control".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let mut reader = BufReader::new(&conn);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let answer = execute(&overlay, line.trim());
                let mut w = &conn;
                let _ = writeln!(w, "{answer}");
            }
        })
        .map_err(DiskError::io("spawn control thread", path))?;
    Ok(())
}

/// Send `command` to the diskfs listening on `path`; its JSON answer. An
/// `{"error": ..}` answer is an error.
pub fn request(path: &Path, command: &str, timeout: Duration) -> Result<Value> {
    let err = |detail: String| DiskError::Control {
        path: PathBuf::from(path),
        detail,
    };
    let mut s = UnixStream::connect(path).map_err(|e| err(format!("connect: {e}")))?;
    s.set_read_timeout(Some(timeout))
        .and_then(|_| s.set_write_timeout(Some(timeout)))
        .map_err(|e| err(e.to_string()))?;
    writeln!(s, "{command}").map_err(|e| err(format!("send: {e}")))?;
    let mut line = String::new();
    BufReader::new(&s)
        .read_line(&mut line)
        .map_err(|e| err(format!("no answer to {command:?}: {e}")))?;
    let v: Value =
        serde_json::from_str(line.trim()).map_err(|e| err(format!("bad answer {line:?}: {e}")))?;
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        return Err(err(e.to_string()));
    }
    Ok(v)
}

/// `sync(1)` on the diskfs at `path`: what had been unsynced (JSON).
pub fn sync(path: &Path) -> Result<Value> {
    request(path, "sync", Duration::from_secs(10))
}

/// Power loss on the diskfs at `path`: what it lost (the `Loss` as JSON).
pub fn lose_unsynced(path: &Path, tear: bool) -> Result<Value> {
    let cmd = if tear { "drop tear" } else { "drop" };
    request(path, cmd, Duration::from_secs(10))
}
