"""The entry script every rented container runs as PID 1 (through /bin/sh -c).

It holds no secrets: the root password is set afterwards over `docker exec` stdin, and the
Jupyter token comes from the container's environment. Jupyter's options are spelled for the
JupyterLab the image has (the notebook-server era of NGC 20.12 images, or Jupyter Server). It
traps TERM so `docker stop` finishes at once instead of waiting for the kill timeout.
"""

from __future__ import annotations

ENTRY_SCRIPT = r"""
pids=""
nap=""
stop_all() {
  trap - TERM INT
  kill -TERM $pids $nap 2>/dev/null
  wait
  exit 0
}
trap stop_all TERM INT
mkdir -p /run/sshd /workspace
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || SSHD=$(command -v sshd || true)
if [ -n "$SSHD" ]; then
  if ! ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then
    ssh-keygen -A || echo "gpurent: ssh-keygen failed; sshd may not start" >&2
  fi
  "$SSHD" -D -e -o PermitRootLogin=yes -o PasswordAuthentication=yes &
  pids="$pids $!"
else
  echo "gpurent: this image has no OpenSSH server (sshd); SSH and SFTP will not work" >&2
fi
if command -v jupyter-lab >/dev/null 2>&1; then
  # JupyterLab <= 2 runs on the notebook server (NGC 20.12), 3 on Jupyter Server 1, 4+ on
  # Jupyter Server 2: each spells the token option differently and refuses the others'.
  case "$(jupyter-lab --version 2>/dev/null | head -n 1)" in
    0.*|1.*|2.*) opts="--NotebookApp.notebook_dir=/workspace --NotebookApp.token" ;;
    3.*) opts="--ServerApp.root_dir=/workspace --ServerApp.token" ;;
    *) opts="--ServerApp.root_dir=/workspace --IdentityProvider.token" ;;
  esac
  # $opts is split on purpose: our own words, no user input.
  jupyter-lab --ip 0.0.0.0 --port 8888 --allow-root --no-browser \
    $opts="${JUPYTER_TOKEN:-}" &
  pids="$pids $!"
else
  echo "gpurent: jupyter-lab is not installed in this image; Jupyter is not started" >&2
fi
while :; do sleep 1 & nap=$!; wait $nap; done
"""
