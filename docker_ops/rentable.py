"""The Dockerfile that makes an NGC image rentable (``rentable.Dockerfile`` beside this file):
OpenSSH server and JupyterLab, nothing else. One file for the admins' ``/images`` prepare and
for building by hand (docs/admin-guide.md), so the two cannot drift apart."""

from __future__ import annotations

import re
from importlib import resources

TEMPLATE = "rentable.Dockerfile"
_BASE_LINE = re.compile(r"^ARG BASE=\S+$", re.MULTILINE)
# What an image reference may hold; anything else (spaces, newlines) would add Dockerfile lines.
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,254}")


def template() -> str:
    return resources.files("docker_ops").joinpath(TEMPLATE).read_text(encoding="utf-8")


def rentable_dockerfile(base: str) -> str:
    """The template with ``base`` as its base image."""
    if not _REF.fullmatch(base):
        raise ValueError(f"not an image reference: {base!r}")
    text, count = _BASE_LINE.subn(f"ARG BASE={base}", template(), count=1)
    if count != 1:
        raise ValueError(f"{TEMPLATE} has no 'ARG BASE=' line")
    return text
