//! The `--hosts FILE` parser (`faultline_harness::ssh::HostsFile::parse`):
//! TOML from the user, checked for unknown fields, duplicates and hostile
//! values. An error is fine; a panic is a finding, and so is an accepted
//! file whose values break the promises the SSH code relies on.

use faultline_harness::ssh::HostsFile;

use super::{InputKind, Target};

pub const HOSTS_FILE: Target = Target {
    name: "hosts_file",
    about: "faultline run --hosts FILE via HostsFile::parse (TOML, unknown fields, duplicates, values)",
    kind: InputKind::Text,
    run: run_hosts,
    seeds: hosts_seeds,
    dictionary: HOSTS_TOKENS,
    short_inputs: 20_000,
};

fn run_hosts(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let last_line = text.matches('\n').count() + 1;
    match HostsFile::parse(text, "fuzz.toml") {
        Ok(file) => {
            assert!(!file.hosts.is_empty(), "an accepted file has hosts");
            assert!((1..=300).contains(&file.connect_timeout_s));
            for h in &file.hosts {
                assert!(!h.address.is_empty() && !h.address.starts_with('-'));
                assert!(h.port != 0);
                assert!(h.dir.starts_with('/') && h.dir.len() > 1);
                assert!(h.line >= 1 && h.line <= last_line);
            }
        }
        Err(e) => {
            assert_eq!(e.origin, "fuzz.toml");
            if let Some(line) = e.line {
                assert!(line >= 1 && line <= last_line, "line {line}");
            }
        }
    }
}

fn hosts_seeds() -> Vec<Vec<u8>> {
    [
        "[[host]]\naddress = \"10.0.0.1\"\n",
        "known_hosts = \"/root/.ssh/known_hosts\"\nhost_key_checking = \"accept-new\"\nconnect_timeout_s = 3\n\n[[host]]\naddress = \"10.0.0.1\"\nuser = \"root\"\nport = 22\nkey = \"/k\"\ndir = \"/var/tmp/faultline\"\nsudo = false\n\n[[host]]\naddress = \"db2.example\"\nuser = \"ops\"\nport = 2222\nsudo = true\n",
        "[[host]]\naddress = \"a\"\n[[host]]\naddress = \"a\"\n",
        "[[host]]\naddress = \"a\"\npassword = \"x\"\n",
        "[[host]]\nuser = \"x\"\n",
        "",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

const HOSTS_TOKENS: &[&[u8]] = &[
    b"[[host]]\n",
    b"[host]\n",
    b"address = ",
    b"user = ",
    b"port = ",
    b"key = ",
    b"dir = ",
    b"sudo = ",
    b"known_hosts = ",
    b"host_key_checking = ",
    b"connect_timeout_s = ",
    b"\"strict\"",
    b"\"accept-new\"",
    b"\"10.0.0.1\"",
    b"\"/var/tmp/faultline\"",
    b"\"-oProxyCommand=x\"",
    b"65535",
    b"0",
    b"true",
    b"\"\"",
    b"'''",
    b"\n",
];
