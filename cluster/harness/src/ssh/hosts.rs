//! The hosts file of `faultline run --hosts FILE`: which machines the nodes
//! run on and how to reach them over SSH. TOML, keys only (there is no
//! password field: authentication is the key file, or the agent when no key
//! is named), one `[[host]]` table per machine:
//!
//! ```toml
//! known_hosts = "/root/.ssh/known_hosts"  # optional: ssh's own by default
//! host_key_checking = "strict"            # or "accept-new"
//! connect_timeout_s = 5
//!
//! [[host]]
//! address = "10.0.0.11"                   # where ssh connects; nodes listen here
//! user = "root"                           # default root
//! port = 22                               # default 22
//! key = "/root/.ssh/faultline_ed25519"    # must exist
//! dir = "/var/tmp/faultline"              # remote work folder (default)
//! sudo = false                            # prefix root commands with `sudo -n`
//! ```
//!
//! [`HostsFile::parse`] checks the text alone (syntax, unknown fields,
//! duplicate addresses, bad values), naming the file and line;
//! [`HostsFile::load`] reads a file and also checks the key files exist.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The default remote work folder.
pub const DEFAULT_DIR: &str = "/var/tmp/faultline";
/// The default connect timeout (seconds).
pub const DEFAULT_CONNECT_TIMEOUT_S: u64 = 5;

/// What is wrong with a hosts file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct HostsError {
    /// The file (or `<text>`).
    pub origin: String,
    /// The 1-based line, when the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

/// How ssh checks the hosts' keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyChecking {
    /// `StrictHostKeyChecking=yes`: the host's key must already be known.
    #[default]
    Strict,
    /// `StrictHostKeyChecking=accept-new`: a new host's key is added, a
    /// changed key is refused.
    AcceptNew,
}

/// One machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// Where ssh connects and where its node listens (an IP or a name).
    pub address: String,
    pub user: String,
    pub port: u16,
    /// The private key (`ssh -i`); `None`: ssh's defaults and agent.
    pub key: Option<PathBuf>,
    /// The remote work folder (binaries, node data and logs below it).
    pub dir: String,
    /// Run root-only commands (iptables, kill of root processes) with
    /// `sudo -n`.
    pub sudo: bool,
    /// The line of its `[[host]]` table.
    pub line: usize,
}

impl Host {
    /// `user@address:port`, for messages.
    pub fn describe(&self) -> String {
        format!("{}@{}:{}", self.user, self.address, self.port)
    }
}

/// A parsed hosts file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostsFile {
    /// Where it was read from (`<text>` for a string).
    pub origin: String,
    pub hosts: Vec<Host>,
    /// `UserKnownHostsFile` (`None`: ssh's default).
    pub known_hosts: Option<PathBuf>,
    pub host_key_checking: HostKeyChecking,
    pub connect_timeout_s: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    known_hosts: Option<Spanned<PathBuf>>,
    #[serde(default)]
    host_key_checking: HostKeyChecking,
    connect_timeout_s: Option<Spanned<u64>>,
    #[serde(default)]
    host: Vec<Spanned<RawHost>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    address: Spanned<String>,
    user: Option<Spanned<String>>,
    port: Option<Spanned<u16>>,
    key: Option<Spanned<PathBuf>>,
    dir: Option<Spanned<String>>,
    #[serde(default)]
    sudo: bool,
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A plain token: no whitespace, no quotes, no shell or ssh specials.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:[]%".contains(c))
}

impl HostsFile {
    /// Parse and check `text` (read from `origin`). Key files are not
    /// looked at (see [`HostsFile::load`]).
    pub fn parse(text: &str, origin: &str) -> Result<HostsFile, HostsError> {
        let err = |line: Option<usize>, message: String| HostsError {
            origin: origin.to_string(),
            line,
            message,
        };
        let at = |offset: usize| Some(line_of(text, offset));
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            err(line, e.message().trim().to_string())
        })?;
        if raw.host.is_empty() {
            return Err(err(
                None,
                "no hosts: add one `[[host]]` table per machine, with at least `address = \"...\"`"
                    .into(),
            ));
        }
        let connect_timeout_s = match raw.connect_timeout_s {
            Some(t) if !(1..=300).contains(t.get_ref()) => {
                return Err(err(
                    at(t.span().start),
                    format!("connect_timeout_s = {}: use 1 to 300 seconds", t.get_ref()),
                ));
            }
            Some(t) => t.into_inner(),
            None => DEFAULT_CONNECT_TIMEOUT_S,
        };
        let mut seen: BTreeMap<(String, u16), usize> = BTreeMap::new();
        let mut hosts = Vec::new();
        for h in raw.host {
            let line = line_of(text, h.span().start);
            let h = h.into_inner();
            let address_line = line_of(text, h.address.span().start);
            let address = h.address.into_inner();
            if !plain(&address) {
                return Err(err(
                    Some(address_line),
                    format!(
                        "address {address:?}: use a host name or an IP address (letters, digits, `.`, `-`, `:`)"
                    ),
                ));
            }
            let user = match h.user {
                Some(u) if !plain(u.get_ref()) => {
                    return Err(err(
                        at(u.span().start),
                        format!("user {:?}: use a plain login name", u.get_ref()),
                    ));
                }
                Some(u) => u.into_inner(),
                None => "root".to_string(),
            };
            let port = match h.port {
                Some(p) if *p.get_ref() == 0 => {
                    return Err(err(at(p.span().start), "port 0: use 1 to 65535".into()));
                }
                Some(p) => p.into_inner(),
                None => 22,
            };
            let dir = match h.dir {
                Some(d) if !d.get_ref().starts_with('/') || d.get_ref().contains(['\n', '\0']) => {
                    return Err(err(
                        at(d.span().start),
                        format!("dir {:?}: use an absolute path", d.get_ref()),
                    ));
                }
                Some(d) => d.into_inner().trim_end_matches('/').to_string(),
                None => DEFAULT_DIR.to_string(),
            };
            if dir.is_empty() {
                return Err(err(
                    Some(line),
                    "dir \"/\": use a folder of its own, e.g. /var/tmp/faultline".into(),
                ));
            }
            if let Some(first) = seen.insert((address.clone(), port), line) {
                return Err(err(
                    Some(line),
                    format!(
                        "duplicate host {address} port {port} (first at line {first}): each machine once"
                    ),
                ));
            }
            hosts.push(Host {
                address,
                user,
                port,
                key: h.key.map(Spanned::into_inner),
                dir,
                sudo: h.sudo,
                line,
            });
        }
        Ok(HostsFile {
            origin: origin.to_string(),
            hosts,
            known_hosts: raw.known_hosts.map(Spanned::into_inner),
            host_key_checking: raw.host_key_checking,
            connect_timeout_s,
        })
    }

    /// Read and check the hosts file at `path`, including that every key
    /// file (and the known-hosts file, if named) exists.
    pub fn load(path: &Path) -> Result<HostsFile, HostsError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| HostsError {
            origin: origin.clone(),
            line: None,
            message: format!("cannot read the hosts file: {e}"),
        })?;
        let file = HostsFile::parse(&text, &origin)?;
        for h in &file.hosts {
            if let Some(k) = h.key.as_ref().filter(|k| !k.is_file()) {
                return Err(HostsError {
                    origin: origin.clone(),
                    line: Some(h.line),
                    message: format!(
                        "key file {} of host {} does not exist (make one with `ssh-keygen -t ed25519 -f {}` and install its .pub on the host)",
                        k.display(),
                        h.address,
                        k.display()
                    ),
                });
            }
        }
        if let Some(k) = file.known_hosts.as_ref().filter(|k| !k.is_file()) {
            return Err(HostsError {
                origin,
                line: None,
                message: format!(
                    "known_hosts file {} does not exist (fill it with `ssh-keyscan HOST >> {}` after checking the fingerprints, or set host_key_checking = \"accept-new\")",
                    k.display(),
                    k.display()
                ),
            });
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
connect_timeout_s = 3

[[host]]
address = "10.0.0.1"
key = "/k"

[[host]]
address = "10.0.0.2"
user = "ops"
port = 2222
sudo = true
dir = "/srv/fl/"
"#;

    #[test]
    fn parses_hosts_with_defaults() {
        let f = HostsFile::parse(GOOD, "h.toml").unwrap();
        assert_eq!(f.hosts.len(), 2);
        assert_eq!(f.connect_timeout_s, 3);
        assert_eq!(f.host_key_checking, HostKeyChecking::Strict);
        let (a, b) = (&f.hosts[0], &f.hosts[1]);
        assert_eq!((a.user.as_str(), a.port, a.line), ("root", 22, 4));
        assert_eq!(a.dir, DEFAULT_DIR);
        assert_eq!(a.key.as_deref(), Some(Path::new("/k")));
        assert_eq!((b.user.as_str(), b.port, b.sudo), ("ops", 2222, true));
        assert_eq!(b.dir, "/srv/fl");
    }

    #[test]
    fn unknown_field_names_file_and_line() {
        let text = "[[host]]\naddress = \"a\"\npassword = \"x\"\n";
        let e = HostsFile::parse(text, "h.toml").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().starts_with("h.toml:3: "), "{e}");
        assert!(e.message.contains("password"), "{e}");
    }

    #[test]
    fn duplicate_host_is_refused() {
        let text = "[[host]]\naddress = \"a\"\n[[host]]\naddress = \"a\"\n";
        let e = HostsFile::parse(text, "h.toml").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("duplicate host a"), "{e}");
    }

    #[test]
    fn missing_address_and_empty_file_are_refused() {
        let e = HostsFile::parse("[[host]]\nuser = \"x\"\n", "h").unwrap_err();
        assert!(e.message.contains("address"), "{e}");
        let e = HostsFile::parse("", "h").unwrap_err();
        assert!(e.message.contains("no hosts"), "{e}");
    }

    #[test]
    fn hostile_values_are_refused() {
        for text in [
            "[[host]]\naddress = \"-oProxyCommand=x\"\n",
            "[[host]]\naddress = \"a b\"\n",
            "[[host]]\naddress = \"a\"\nuser = \"a;rm\"\n",
            "[[host]]\naddress = \"a\"\ndir = \"rel\"\n",
            "[[host]]\naddress = \"a\"\nport = 0\n",
            "connect_timeout_s = 0\n[[host]]\naddress = \"a\"\n",
            "host_key_checking = \"no\"\n[[host]]\naddress = \"a\"\n",
        ] {
            assert!(HostsFile::parse(text, "h").is_err(), "{text}");
        }
    }

    #[test]
    fn missing_key_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts.toml");
        std::fs::write(
            &path,
            "[[host]]\naddress = \"a\"\nkey = \"/nonexistent/k\"\n",
        )
        .unwrap();
        let e = HostsFile::load(&path).unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        assert!(e.message.contains("/nonexistent/k"), "{e}");
        assert!(e.to_string().contains("hosts.toml"), "{e}");
    }
}
