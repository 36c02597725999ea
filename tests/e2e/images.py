"""Test images derived from the rig's test image in a second, without a registry: a throwaway
container changes the filesystem and is committed under a name the test config offers."""

from __future__ import annotations

import contextlib

from tests.rig.rig import Rig

BASE = "gpurent/test-base:latest"

NO_JUPYTER = "rm -f /usr/local/bin/jupyter-lab /usr/local/bin/jupyter"
# Purged, not just deleted: preparing must download openssh-server (from the rig's mirror).
NO_SSHD = "dpkg --purge openssh-server && ! test -e /usr/sbin/sshd"

# A jupyter-lab that, like the real ones, refuses the other era's option spelling (exits 2),
# and serves only with a non-empty token equal to $JUPYTER_TOKEN (written to
# /workspace/.jupyter-token so a test can compare it with the link the student got).
_STRICT_JUPYTER = r'''#!/usr/bin/python3
import os, sys
VERSION, ACCEPTED = "{version}", "{accepted}"
args = sys.argv[1:]
if args == ["--version"]:
    print(VERSION)
    sys.exit(0)
token = None
for arg in args:
    key, _, value = arg.partition("=")
    if key.endswith(".token"):
        if key != ACCEPTED:
            print(f"unrecognized option {{key}}", file=sys.stderr)
            sys.exit(2)
        token = value
if not token or token != os.environ.get("JUPYTER_TOKEN"):
    print("no token or a wrong one", file=sys.stderr)
    sys.exit(3)
with open("/workspace/.jupyter-token", "w") as out:
    out.write(token)
os.execvp("python3", ["python3", "-m", "http.server", "8888", "--bind", "0.0.0.0",
                      "--directory", "/workspace"])
'''


def strict_jupyter(version: str, accepted: str) -> str:
    """The shell step that installs a jupyter-lab accepting only ``accepted`` as token option."""
    body = _STRICT_JUPYTER.format(version=version, accepted=accepted)
    return (f"cat > /usr/local/bin/jupyter-lab <<'EOF'\n{body}EOF\n"
            "chmod 755 /usr/local/bin/jupyter-lab")


NOTEBOOK_ERA = strict_jupyter("2.2.9", "--NotebookApp.token")
SERVER_ERA = strict_jupyter("4.2.5", "--IdentityProvider.token")


def derive(rig: Rig, ref: str, script: str) -> None:
    """Build image ``ref`` from the test image plus ``script`` on every engine of the rig."""
    repo, tag = ref.rsplit(":", 1)
    for engine in rig.engines:
        client = engine.client()
        # No network, but not network_disabled: that is container config, which the commit
        # would keep, and a build FROM the image would run its steps without a network too.
        box = client.containers.create(BASE, entrypoint=["/bin/sh", "-c", script],
                                       network_mode="none", labels={"gpurent.helper": "test"})
        try:
            box.start()
            code = box.wait().get("StatusCode")
            assert code == 0, box.logs().decode()
            box.commit(repository=repo, tag=tag)
        finally:
            with contextlib.suppress(Exception):
                box.remove(force=True)
