"""The Dockerfile that makes an NGC image rentable (``rentable.Dockerfile`` beside this file):
OpenSSH server and JupyterLab, nothing else. One file for the admins' ``/images`` prepare and
for building by hand (docs/admin-guide.md), so the two cannot drift apart.

Package mirrors (a lab in mainland China uses nearby ones) are the template's ``APT_MIRROR``
and ``PIP_INDEX`` build arguments; empty, the base image's own sources are used."""

from __future__ import annotations

import re
from importlib import resources

TEMPLATE = "rentable.Dockerfile"
# What an image reference may hold; anything else (spaces, newlines) would add Dockerfile lines.
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,254}")
_HOST = r"https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?(?::[0-9]{1,5})?"
# An apt mirror is a scheme and a host: the official hosts are swapped for it, paths kept.
APT_MIRROR = re.compile(_HOST)
# A pip index is a URL without quotes, spaces, '$' or '#': nothing a shell or sed would read.
PIP_INDEX = re.compile(_HOST + r"(?:/[A-Za-z0-9._~%+/-]*)?")


def template() -> str:
    return resources.files("docker_ops").joinpath(TEMPLATE).read_text(encoding="utf-8")


def rentable_dockerfile(base: str, apt_mirror: str = "", pip_index: str = "") -> str:
    """The template with ``base`` as its base image and the mirrors as the build arguments'
    defaults ("" = the base image's own sources)."""
    if not _REF.fullmatch(base):
        raise ValueError(f"not an image reference: {base!r}")
    if apt_mirror and not APT_MIRROR.fullmatch(apt_mirror):
        raise ValueError(f"not an apt mirror (scheme://host[:port]): {apt_mirror!r}")
    if pip_index and not PIP_INDEX.fullmatch(pip_index):
        raise ValueError(f"not a pip index URL: {pip_index!r}")
    text = template()
    for name, value in (("BASE", base), ("APT_MIRROR", apt_mirror), ("PIP_INDEX", pip_index)):
        text = _set_arg(text, name, value)
    return text


def _set_arg(text: str, name: str, value: str) -> str:
    line = re.compile(rf"^ARG {name}=\S*$", re.MULTILINE)
    text, count = line.subn(lambda _: f"ARG {name}={value}", text, count=1)
    if count != 1:
        raise ValueError(f"{TEMPLATE} has no 'ARG {name}=' line")
    return text
