"""Docker image references: parsing by the reference grammar, and the registry allow-list.

Pure code (no Docker SDK), so the request use case can check what a student typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
MAX_NAME = 255

_ALNUM = r"[a-z0-9]+"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*")
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?")
_TAG = re.compile(r"\w[\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        if self.digest:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag}"


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    is_domain = sep and (any(ch in first for ch in ".:") or first == "localhost"
                         or first != first.lower())
    if not is_domain:
        return DEFAULT_REGISTRY, name
    if not _DOMAIN.fullmatch(first):
        raise ValueError(f"'{first}' is not a valid registry address")
    return ("docker.io" if first == "index.docker.io" else first), rest


def parse_image_ref(ref: str) -> ImageRef:
    """Parse a docker image reference; ValueError in plain words when it is not one."""
    text = ref.strip()
    if not text:
        raise ValueError("the image reference is empty")
    name, _, digest = text.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        raise ValueError("the digest must look like sha256:<64 lowercase hex digits>")
    tag: str | None = None
    if name.rfind(":") > name.rfind("/"):
        name, _, tag = name.rpartition(":")
        if not _TAG.fullmatch(tag):
            raise ValueError(f"'{tag}' is not a valid tag")
    registry, path = _split_domain(name)
    for component in path.split("/"):
        if not _PATH_COMPONENT.fullmatch(component):
            raise ValueError(
                f"'{component}' is not a valid name part: use lowercase letters, digits "
                "and single separators (. _ -)"
            )
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    if len(f"{registry}/{path}") > MAX_NAME:
        raise ValueError(f"the image name is longer than {MAX_NAME} characters")
    return ImageRef(registry, path, tag or (None if digest else "latest"), digest or None)


def registry_allowed(ref: str | ImageRef, allow: Iterable[str]) -> bool:
    """True when the image's registry (or registry/namespace prefix) is in `allow`."""
    try:
        parsed = ref if isinstance(ref, ImageRef) else parse_image_ref(ref)
    except ValueError:
        return False
    for entry in allow:
        prefix = entry.strip().rstrip("/")
        if prefix and (parsed.name == prefix or parsed.name.startswith(prefix + "/")
                       or parsed.registry == prefix):
            return True
    return False
