"""Docker image references: parsing by the reference grammar, and the registry allow-list.

Pure code (no Docker SDK), so the request use case can check what a student typed. A student's
text is read the way the engine would read it: the engine also takes a bare hex string as a
short image ID and ``sha256:<hex>`` as a full one, and finds local images (such as another
student's revival image in the reserved namespace) before it pulls anything.
"""

from __future__ import annotations

import re
import unicodedata
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
# Names the engine resolves to an image ID instead of a repository: short or full hex IDs,
# and "sha256:<hex>", which parses as repository "sha256" with a hex tag.
_ID_LIKE = re.compile(r"[0-9a-f]+|sha256")
RESERVED_NAMESPACE = "gpurent"  # revival images: gpurent/r<id>:rev<n>, one student's data each


class ReservedImageError(ValueError):
    """The reference names the bot's own namespace, which no student may run."""


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
    name, at, digest = text.partition("@")
    if not name:
        raise ValueError("a digest needs an image name before it: name@sha256:<64 hex digits>")
    if at and not _DIGEST.fullmatch(digest):
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


def names_reserved(text: str) -> bool:
    """True when any part of ``text`` (in any case or width) is the reserved namespace."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return RESERVED_NAMESPACE in re.split(r"[/:@\s]+", folded)


def parse_custom_ref(text: str) -> ImageRef:
    """A student's image reference: parsed, refused when it names the reserved namespace
    (ReservedImageError) or would be read by the engine as an image ID (ValueError)."""
    if names_reserved(text):
        raise ReservedImageError(f"the {RESERVED_NAMESPACE}/ namespace is reserved")
    parsed = parse_image_ref(text)
    if _id_like(parsed):
        raise ValueError("that looks like an image ID; send an image name such as "
                         "nvcr.io/nvidia/pytorch:23.10-py3")
    return parsed


def _id_like(parsed: ImageRef) -> bool:
    official, _, short = parsed.repository.partition("/")
    return (parsed.registry == DEFAULT_REGISTRY and official == "library"
            and _ID_LIKE.fullmatch(short) is not None)


def registry_allowed(ref: str | ImageRef, allow: Iterable[str]) -> bool:
    """True when the image's registry host (and port) is exactly an entry of `allow`, and the
    repository is under the entry's namespace when the entry names one ("ghcr.io/lab")."""
    try:
        parsed = ref if isinstance(ref, ImageRef) else parse_image_ref(ref)
    except ValueError:
        return False
    for entry in allow:
        host, _, namespace = entry.strip().rstrip("/").lower().partition("/")
        if not host or parsed.registry != host:
            continue
        if not namespace or f"{parsed.repository}/".startswith(f"{namespace}/"):
            return True
    return False
