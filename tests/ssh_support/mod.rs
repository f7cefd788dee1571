//! The SSH test fixture: "remote hosts" that are network namespaces of this
//! machine (built by `faultline_harness::netns::Network`, the code local
//! runs use), each running its own `sshd` (Debian `openssh-server`) on its
//! namespace address only, with a per-fixture host key, a per-fixture
//! client key, `StrictModes no` and no PAM. It writes the hosts file and a
//! known_hosts file holding exactly the hosts' keys, so the runner checks
//! host keys strictly. Dropping the fixture kills each sshd by pid, removes
//! the namespaces and deletes the keys. Needs root, `ip`, `iptables` and
//! `/usr/sbin/sshd` ([`unavailable`] says what is missing).

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_harness::netns::{Network, NetworkOptions};

pub const SSHD: &str = "/usr/sbin/sshd";

/// Why the fixture cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root (network namespaces, sshd)".into());
    }
    if let Err(e) = faultline_harness::netns::preflight() {
        return Some(format!("network namespaces unavailable: {e}"));
    }
    if !Path::new(SSHD).is_file() {
        return Some(format!(
            "{SSHD} missing: apt-get install openssh-server (scripts/setup.sh installs it)"
        ));
    }
    for tool in ["ssh", "ssh-keygen"] {
        let found = Command::new(tool)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        let found = found
            || Command::new("which")
                .arg(tool)
                .output()
                .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("{tool} missing: apt-get install openssh-client"));
        }
    }
    None
}

/// Hosts as namespaces running sshd.
pub struct SshFixture {
    /// Keys, sshd configs and logs, the hosts file, the hosts' work folders.
    pub dir: tempfile::TempDir,
    pub net: Network,
    pub ips: Vec<Ipv4Addr>,
    sshd: Vec<Child>,
    /// `/run/sshd` (sshd's privilege separation folder) when this fixture made it.
    made_run_sshd: bool,
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "faultline-fixture",
            "-f",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(st.success(), "ssh-keygen {}", path.display());
}

impl SshFixture {
    /// `hosts` namespaces, each with a running sshd.
    pub fn start(hosts: usize) -> SshFixture {
        let net = Network::setup(&NetworkOptions {
            nodes: (1..=hosts as u64).collect(),
            faketime: false,
            fake_monotonic: false,
        })
        .expect("building the fixture's namespaces");
        let dir = tempfile::Builder::new()
            .prefix("faultline-ssh-fixture")
            .tempdir()
            .unwrap();
        let made_run_sshd = !Path::new("/run/sshd").exists();
        if made_run_sshd {
            std::fs::create_dir_all("/run/sshd").unwrap();
        }
        let mut fx = SshFixture {
            dir,
            ips: Vec::new(),
            sshd: Vec::new(),
            made_run_sshd,
            net,
        };
        let d = fx.dir.path().to_path_buf();
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let mut known = String::new();
        for id in fx.net.node_ids() {
            let node = fx.net.node(id).unwrap().clone();
            let hk = d.join(format!("host_key_{id}"));
            keygen(&hk);
            let pubkey = std::fs::read_to_string(hk.with_extension("pub")).unwrap();
            known += &format!("{} {}\n", node.ip, pubkey.trim());
            let cfg = d.join(format!("sshd_{id}.conf"));
            std::fs::write(
                &cfg,
                format!(
                    "ListenAddress {ip}\nPort 22\nHostKey {hk}\nPidFile {pid}\n\
                     AuthorizedKeysFile {auth}\nPermitRootLogin prohibit-password\n\
                     PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                     UsePAM no\nStrictModes no\nMaxSessions 100\nMaxStartups 100\nLogLevel ERROR\n",
                    ip = node.ip,
                    hk = hk.display(),
                    pid = d.join(format!("sshd_{id}.pid")).display(),
                    auth = d.join("authorized_keys").display(),
                ),
            )
            .unwrap();
            let log = std::fs::File::create(d.join(format!("sshd_{id}.log"))).unwrap();
            let child = Command::new("ip")
                .args(["netns", "exec", &node.namespace, SSHD, "-D", "-e", "-f"])
                .arg(&cfg)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("starting sshd");
            fx.sshd.push(child);
            fx.ips.push(node.ip);
        }
        std::fs::write(d.join("known_hosts"), known).unwrap();
        for ip in fx.ips.clone() {
            let up = wait_for(Duration::from_secs(10), || {
                TcpStream::connect_timeout(&SocketAddr::from((ip, 22)), Duration::from_millis(200))
                    .is_ok()
            });
            assert!(up, "sshd on {ip} did not come up: {}", fx.sshd_logs());
        }
        fx.write_hosts("hosts.toml", &fx.ips.clone(), 5);
        fx
    }

    /// Write a hosts file for `ips` (port 22, the fixture's key and
    /// known_hosts, each host's work folder `<dir>/host-<ip>`).
    pub fn write_hosts(&self, name: &str, ips: &[Ipv4Addr], timeout_s: u64) -> PathBuf {
        let d = self.dir.path();
        let mut text = format!(
            "known_hosts = \"{}\"\nhost_key_checking = \"strict\"\nconnect_timeout_s = {timeout_s}\n",
            d.join("known_hosts").display()
        );
        for ip in ips {
            text += &format!(
                "\n[[host]]\naddress = \"{ip}\"\nuser = \"root\"\nport = 22\nkey = \"{}\"\ndir = \"{}\"\n",
                d.join("client_key").display(),
                self.host_dir(*ip).display()
            );
        }
        let path = d.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn hosts_file(&self) -> PathBuf {
        self.dir.path().join("hosts.toml")
    }

    /// A host's work folder (on this machine's file system: the "hosts"
    /// share it).
    pub fn host_dir(&self, ip: Ipv4Addr) -> PathBuf {
        self.dir.path().join(format!("host-{ip}"))
    }

    pub fn sshd_pids(&self) -> Vec<u32> {
        self.sshd.iter().map(Child::id).collect()
    }

    pub fn sshd_logs(&self) -> String {
        (1..=self.sshd.len())
            .map(|i| {
                std::fs::read_to_string(self.dir.path().join(format!("sshd_{i}.log")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The `iptables -S` of every host namespace.
    pub fn rules(&self) -> String {
        self.net
            .node_ids()
            .into_iter()
            .map(|id| {
                let ns = self.net.node(id).unwrap().namespace.clone();
                faultline_harness::netns::firewall::listing(Some(&ns)).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stop every sshd and remove the namespaces and keys now (what Drop
    /// does).
    pub fn stop(&mut self) {
        for c in &mut self.sshd {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.sshd.clear();
        self.net.teardown();
        if self.made_run_sshd {
            let _ = std::fs::remove_dir("/run/sshd");
            self.made_run_sshd = false;
        }
    }
}

impl Drop for SshFixture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Processes whose environment carries `FAULTLINE_NETNS_RUN=` (node
/// processes of any faultline run) and whose executable lives under `dir`.
pub fn remote_nodes_under(dir: &Path) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if exe.starts_with(dir) {
            out.push(pid);
        }
    }
    out
}

/// Processes whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) {
            out.push(pid);
        }
    }
    out
}

pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
