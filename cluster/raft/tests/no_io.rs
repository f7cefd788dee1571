//! The core does no I/O and nothing nondeterministic (DESIGN.md invariant 1):
//! scan `src/` for paths that would break that, so it stays true.

use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::net",
    "std::time",
    "std::thread",
    "std::process",
    "std::env",
    "tokio",
    "rand::",
    "thread_rng",
    "HashMap",
    "HashSet",
    "SystemTime",
    "Instant",
    "println!",
];

/// Every `.rs` file under `dir`, subdirectories included (the test kit
/// lives in `src/testkit/`).
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source dir exists") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_sources_use_no_io_clocks_threads_or_unordered_maps() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut hits = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            for word in FORBIDDEN {
                if line.contains(word) {
                    hits.push(format!("{}:{}: {word}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(
        files.len() >= 10,
        "found the sources ({} files)",
        files.len()
    );
    assert!(
        files.iter().any(|p| p.ends_with("testkit/driver.rs")),
        "the test kit is scanned too"
    );
    assert!(
        hits.is_empty(),
        "forbidden in the Raft core:\n{}",
        hits.join("\n")
    );
}
