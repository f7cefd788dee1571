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

#[test]
fn core_sources_use_no_io_clocks_threads_or_unordered_maps() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = 0;
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(&src).expect("src/ exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            files += 1;
            let text = std::fs::read_to_string(&path).expect("readable source");
            for (n, line) in text.lines().enumerate() {
                for word in FORBIDDEN {
                    if line.contains(word) {
                        hits.push(format!("{}:{}: {word}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(files >= 10, "found the sources ({files} files)");
    assert!(
        hits.is_empty(),
        "forbidden in the Raft core:\n{}",
        hits.join("\n")
    );
}
