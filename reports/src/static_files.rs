//! Read-only serving rules for the store over HTTP: which file a request
//! path maps to (never outside the store: `..`, encoded `..` and symlinks
//! leading out are refused) and the Content-Type of a file by extension.
//! The HTTP server itself lives in the binary (`faultline serve`).

use std::path::{Path, PathBuf};

/// What a request path resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Serve this file.
    File(PathBuf),
    /// A folder requested without its trailing slash: redirect to this
    /// location so the page's relative links work.
    Redirect(String),
    NotFound,
    /// A path that tries to leave the store, or is not valid.
    Forbidden,
}

/// Maps the path of an HTTP request (`/register/2024.../index.html?x`) to a
/// file under `root`. `root` must be canonical (see `Path::canonicalize`).
/// Folders serve their `index.html`.
pub fn resolve(root: &Path, request_path: &str) -> Resolved {
    let path = request_path.split(['?', '#']).next().unwrap_or("");
    let Some(decoded) = percent_decode(path) else {
        return Resolved::Forbidden;
    };
    let mut candidate = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Resolved::Forbidden,
            s if s.contains('\\') || s.contains('\0') => return Resolved::Forbidden,
            s => candidate.push(s),
        }
    }
    let Ok(real) = candidate.canonicalize() else {
        return Resolved::NotFound;
    };
    if !real.starts_with(root) {
        return Resolved::Forbidden;
    }
    if real.is_dir() {
        if !path.ends_with('/') {
            return Resolved::Redirect(format!("{path}/"));
        }
        let index = real.join("index.html");
        return if index.is_file() {
            Resolved::File(index)
        } else {
            Resolved::NotFound
        };
    }
    if real.is_file() {
        Resolved::File(real)
    } else {
        Resolved::NotFound
    }
}

/// Decodes `%XX` escapes; `None` for a bad escape or non-UTF-8 result.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Content-Type for a file, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "jsonl" => "application/x-ndjson",
        "csv" => "text/csv; charset=utf-8",
        "log" | "txt" | "edn" => "text/plain; charset=utf-8",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        std::fs::create_dir_all(root.join("t/run/nodes/n1")).unwrap();
        std::fs::write(root.join("index.html"), "i").unwrap();
        std::fs::write(root.join("t/run/index.html"), "r").unwrap();
        std::fs::write(root.join("t/run/nodes/n1/node.log"), "l").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s").unwrap();
        std::os::unix::fs::symlink("t/run", root.join("latest")).unwrap();
        std::os::unix::fs::symlink("../secret.txt", root.join("leak")).unwrap();
        let root = root.canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn serves_files_and_folder_indexes() {
        let (_d, root) = store();
        assert_eq!(resolve(&root, "/"), Resolved::File(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/t/run/"),
            Resolved::File(root.join("t/run/index.html"))
        );
        assert_eq!(
            resolve(&root, "/t/run"),
            Resolved::Redirect("/t/run/".into())
        );
        assert_eq!(
            resolve(&root, "/latest/?x=1"),
            Resolved::File(root.join("t/run/index.html"))
        );
        assert_eq!(
            resolve(&root, "/t/run/nodes/%6e1/node.log"),
            Resolved::File(root.join("t/run/nodes/n1/node.log"))
        );
        assert_eq!(resolve(&root, "/t/run/nodes/"), Resolved::NotFound);
        assert_eq!(resolve(&root, "/missing.html"), Resolved::NotFound);
    }

    #[test]
    fn refuses_to_leave_the_store() {
        let (_d, root) = store();
        for bad in [
            "/../secret.txt",
            "/t/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/leak",
            "/a%5c..",
            "/%zz",
            "/%00",
        ] {
            let got = resolve(&root, bad);
            assert!(
                matches!(got, Resolved::Forbidden | Resolved::NotFound),
                "{bad}: {got:?}"
            );
            assert!(!matches!(got, Resolved::File(_)), "{bad}");
        }
        assert_eq!(resolve(&root, "/leak"), Resolved::Forbidden);
        assert_eq!(resolve(&root, "/%2e%2e/secret.txt"), Resolved::Forbidden);
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            content_type(Path::new("a/index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("rate.SVG")), "image/svg+xml");
        assert_eq!(
            content_type(Path::new("node.log")),
            "text/plain; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("blob")), "application/octet-stream");
    }
}
