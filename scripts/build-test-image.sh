#!/bin/bash
# Build the rootfs tarball of gpurent's test image: a Debian bookworm minbase with real OpenSSH,
# python3 and a fake `jupyter-lab` (python3 -m http.server).  The result is `docker import`ed by
# the test rig (tests/rig/image.py); no registry is needed.
#
# Beside it, OUT-without-.tar.gz + "-mirror": a small but genuine Debian mirror (the signed
# InRelease, main's amd64 Packages.xz and Translation-en.xz, the .debs of $mirrored) taken
# from MIRROR at the same time, so its versions are the installed ones. The rig serves it to
# its engines, which cannot reach the internet (tests/rig/mirror.py): /images prepare of a base
# whose openssh-server was purged installs it with apt, signatures checked, as from Debian.
#
# usage: build-test-image.sh OUT.tar.gz [MIRROR]
#
# The rig names OUT after a hash of this file, so any change here rebuilds the cache.
set -euo pipefail

out=${1:?usage: build-test-image.sh OUT.tar.gz [MIRROR]}
mirror=${2:-http://deb.debian.org/debian}
packages=openssh-server,python3,iproute2,procps
# What the rentable template's `apt-get install --reinstall openssh-server passwd` downloads
# in the test image with openssh-server purged (tests/e2e/images.py NO_SSHD): the rest of
# openssh-server's dependencies stay installed.
mirrored="openssh-server passwd"

work=$(mktemp -d "$(dirname "$out")/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# Like an official Debian image, whatever mirror built it: apt_mirror rewrites this source.
echo "deb http://deb.debian.org/debian bookworm main" >"$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*

# The partial mirror: the indexes apt-get update asks for, as signed by Debian (Acquire-By-Hash:
# apt asks for each by its SHA256; a missing Translation-en fails the update), then each .deb
# named by the index, checked against it and against the installed version.
fetch() {  # fetch PATH: $mirror/PATH into the partial mirror, same path
    mkdir -p "$(dirname "$work/mirror/debian/$1")"
    curl -fsSL --retry 3 -o "$work/mirror/debian/$1" "$mirror/$1"
}
dists=$work/mirror/debian/dists/bookworm
fetch dists/bookworm/InRelease
for index in main/binary-amd64/Packages.xz main/i18n/Translation-en.xz; do
    sha=$(awk -v f="$index" '/^SHA256:/ {on = 1; next} /^[^ ]/ {on = 0} on && $3 == f {print $1}' \
        "$dists/InRelease")
    [ -n "$sha" ] || { echo "no SHA256 of $index in InRelease" >&2; exit 1; }
    fetch "dists/bookworm/$index"
    echo "$sha  $dists/$index" | sha256sum -c --quiet
    mkdir -p "$dists/$(dirname "$index")/by-hash/SHA256"
    ln "$dists/$index" "$dists/$(dirname "$index")/by-hash/SHA256/$sha"
done
index=main/binary-amd64/Packages.xz
xz -dc "$dists/$index" >"$work/Packages"
for pkg in $mirrored; do
    read -r version file sum < <(awk -v p="$pkg" -v RS= -F '\n' '
        { name = ver = file = sum = ""
          for (i = 1; i <= NF; i++) {
              if ($i ~ /^Package: /) name = substr($i, 10)
              if ($i ~ /^Version: /) ver = substr($i, 10)
              if ($i ~ /^Filename: /) file = substr($i, 11)
              if ($i ~ /^SHA256: /) sum = substr($i, 9) }
          if (name == p) print ver, file, sum }' "$work/Packages") || true
    [ -n "${file:-}" ] || { echo "$pkg is not in $mirror's $index" >&2; exit 1; }
    installed=$(chroot "$root" dpkg-query -W -f='${Version}' "$pkg")
    if [ "$version" != "$installed" ]; then
        echo "$pkg: the mirror has $version, debootstrap installed $installed: build again" >&2
        exit 1
    fi
    fetch "$file"
    echo "$sum  $work/mirror/debian/$file" | sha256sum -c --quiet
done

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
rm -rf "${out%.tar.gz}-mirror"
mv "$work/mirror" "${out%.tar.gz}-mirror"
mv "$work/rootfs.tar.gz" "$out"
