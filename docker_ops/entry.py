"""The entry script every rented container runs as PID 1 (through /bin/sh -c).

It holds no secrets: the root password is set afterwards over `docker exec` stdin, and the
Jupyter token is put into a file only root can read (:data:`TOKEN_FILE`) before the start. The
container's environment and a committed (revival) image's config therefore carry neither;
Jupyter starts once the file is there and gets the token in its own environment only.
Jupyter's options are spelled for the JupyterLab the image has (the notebook-server era of NGC
20.12 images, or Jupyter Server). It traps TERM so `docker stop` finishes at once instead of
waiting for the kill timeout.
"""

from __future__ import annotations

# Kept in the container's filesystem (not /run, which an image may mount as tmpfs), so a
# restart or a revival from a commit finds it again.
TOKEN_DIR = "/etc/gpurent"  # noqa: S105 (a path, not a secret)
TOKEN_FILE = f"{TOKEN_DIR}/jupyter-token"

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
# The bind source is made by dockerd (0755); only root may look into a student's files.
chmod 0700 /workspace 2>/dev/null || true
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
  # The token file is put in before the start; never open Jupyter without one.
  # $opts is split on purpose: our own words, no user input.
  if [ ! -s @TOKEN@ ] && [ -n "${JUPYTER_TOKEN:-}" ]; then
    # A container made before tokens moved to the file (revived from its commit).
    (umask 077; mkdir -p @DIR@; printf '%s' "$JUPYTER_TOKEN" > @TOKEN@)
  fi
  (
    while [ ! -s @TOKEN@ ]; do sleep 0.2; done
    JUPYTER_TOKEN=$(cat @TOKEN@)
    export JUPYTER_TOKEN
    exec jupyter-lab --ip 0.0.0.0 --port 8888 --allow-root --no-browser \
      $opts="$JUPYTER_TOKEN"
  ) &
  pids="$pids $!"
else
  echo "gpurent: jupyter-lab is not installed in this image; Jupyter is not started" >&2
fi
while :; do sleep 1 & nap=$!; wait $nap; done
""".replace("@TOKEN@", TOKEN_FILE).replace("@DIR@", TOKEN_DIR)
