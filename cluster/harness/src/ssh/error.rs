//! Errors of driving nodes on remote hosts over SSH.

use super::hosts::HostsError;

/// What went wrong with a remote host.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error(transparent)]
    Hosts(#[from] HostsError),
    /// The master connection could not be made (unreachable, refused,
    /// host key not known or changed, key not accepted).
    #[error(
        "cannot connect to {host} over SSH: {detail} (check that the host is up, that `ssh -i KEY -p PORT USER@ADDRESS true` works from here, and that its host key is in the known_hosts file)"
    )]
    Connect { host: String, detail: String },
    /// A remote command failed or did not finish in time.
    #[error("on {host}: `{what}` failed: {detail}")]
    Command {
        host: String,
        what: String,
        detail: String,
    },
    /// The host lacks something faultline needs there.
    #[error("host {host}: {detail}")]
    Unsuitable { host: String, detail: String },
    #[error("{0}")]
    Local(String),
}
