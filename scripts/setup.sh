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
for pkg in iproute2 iptables faketime libfaketime procps chromium etcd-server fuse3 python3 python3-pip zookeeper; do
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
