//! Free loopback ports for a new group: bind port 0 for each member, note
//! the port, release them all together (so the kernel does not hand out one
//! port twice within a group).

use std::net::{SocketAddr, TcpListener};

/// `n` distinct free ports on 127.0.0.1.
pub fn free_loopback_addrs(n: usize) -> std::io::Result<Vec<SocketAddr>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners.iter().map(|l| l.local_addr()).collect()
}
