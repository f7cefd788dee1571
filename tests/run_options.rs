//! `faultline run` refuses bad options with exit 2 and a message saying what
//! to use instead, before starting anything.

mod run_support;

use run_support::command;

fn run_with(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = command(dir.path())
        .arg("run")
        .args(["--store", store.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    assert!(!store.exists(), "a refused run created {}", store.display());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_nemesis_lists_the_available_packages() {
    let (code, err) = run_with(&["--nemesis", "kill,meteor"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("\"meteor\""), "{err}");
    assert!(err.contains("available: kill, pause"), "{err}");
}

#[test]
fn bad_numbers_and_names_exit_2_with_a_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["--concurrency", "0"], "--concurrency"),
        (&["--time-limit", "0"], "--time-limit"),
        (&["--test-count", "0"], "--test-count"),
        (&["--rate=-3"], "--rate"),
        (&["--nemesis-interval", "0"], "--nemesis-interval"),
        (&["--keys", "0"], "--keys"),
        (&["--ops-per-key", "0"], "--ops-per-key"),
        (&["--bug", "no-such-bug"], "unknown bug"),
        (&["--groups", "12"], "--groups"),
        (&["--groups", "3", "--db", "etcd"], "--groups"),
        (&["--nemesis", "shard-move"], "add --groups"),
        (&["--groups", "1", "--nemesis", "shard-move"], "at least 2"),
        // `--groups` alone means 2 shard groups: enough for shard-move, so
        // the refusal is about the network faults on loopback.
        (
            &[
                "--groups",
                "--no-netns",
                "--nemesis",
                "shard-move,partition",
            ],
            "loopback",
        ),
        (&["--groups", "--db", "etcd"], "--groups"),
        (
            &[
                "--groups",
                "3",
                "--no-netns",
                "--nemesis",
                "shard-move,partition",
            ],
            "loopback",
        ),
        (&["--bug", "early-gc"], "--groups"),
        (&["--groups", "3", "--bug", "no-dedup"], "kv/client-layer"),
        (
            &["--groups", "3", "--bug", "no-such-bug"],
            "skip-session-transfer",
        ),
        (&["--replicas", "0"], "--replicas"),
        (&["--db", "etcd", "--bug", "no-dedup"], "etcd"),
        (&["--clock-drift", "40"], "add --read-mode lease"),
        (
            &["--read-mode", "lease", "--clock-drift", "99"],
            "leaves no lease",
        ),
        (&["--etcd-serializable-reads"], "--etcd-serializable-reads"),
        (&["--name", "a/b"], "--name"),
        (&["--workload", "bank"], "bank"),
        (&["--time-limit", "soon"], "soon"),
    ];
    for (args, needle) in cases {
        let (code, err) = run_with(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        // One sentence, not a source line's indentation.
        assert!(!err.contains("     "), "{args:?}: {err:?}");
    }
}
