#!/bin/bash
# Build the rootfs tarball of gpurent's test image: a Debian bookworm minbase with real OpenSSH,
# python3 and a fake `jupyter-lab` (python3 -m http.server).  The result is `docker import`ed by
# the test rig (tests/rig/image.py); no registry is needed.
#
# usage: build-test-image.sh OUT.tar.gz [MIRROR]
#
# The rig names OUT after a hash of this file, so any change here rebuilds the cache.
set -euo pipefail

out=${1:?usage: build-test-image.sh OUT.tar.gz [MIRROR]}
mirror=${2:-http://deb.debian.org/debian}
packages=openssh-server,python3,iproute2,procps

work=$(mktemp -d "$(dirname "$out")/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# Trim what a container never reads: docs, man pages, locales, apt's package lists and debs.
rm -rf "$root"/usr/share/{doc,man,info,lintian,linda}/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/var/log/*.log "$root"/var/log/apt/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +

# The product's entry script generates host keys and sets root's password (chpasswd).
rm -f "$root"/etc/ssh/ssh_host_*
chroot "$root" usermod -p '*' root

# Jupyter stand-in: honours the port and directory options gpurent passes, ignores the rest.
cat >"$root/usr/local/bin/jupyter-lab" <<'EOF'
#!/usr/bin/python3
"""Fake jupyter-lab for gpurent's tests: serves the notebook dir with http.server."""
import os
import sys

port, root = "8888", os.getcwd()
args = sys.argv[1:]
if args == ["--version"]:  # what gpurent's entry script asks to pick the option spelling
    print("4.2.5")
    sys.exit(0)
for i, arg in enumerate(args):
    key, _, value = arg.partition("=")
    if not value and i + 1 < len(args) and not args[i + 1].startswith("--"):
        value = args[i + 1]
    if key in ("--port", "--ServerApp.port", "--NotebookApp.port") and value:
        port = value
    elif key in ("--notebook-dir", "--ServerApp.root_dir", "--NotebookApp.notebook_dir") and value:
        root = value
print(f"fake jupyter-lab serving {root} on port {port}", flush=True)
os.execvp("python3", ["python3", "-m", "http.server", port, "--bind", "0.0.0.0", "--directory", root])
EOF
chmod 755 "$root/usr/local/bin/jupyter-lab"
ln -sf jupyter-lab "$root/usr/local/bin/jupyter"

tar --numeric-owner --xattrs -C "$root" -czf "$work/rootfs.tar.gz" .
mv "$work/rootfs.tar.gz" "$out"
