"""Students' SSH public keys: what we accept, and putting them into a container.

Accepted: ed25519, ECDSA (nistp256/384/521) and RSA of at least 2048 bits, as one line
``type base64 [comment]``. The key is parsed for real (the blob's own type, the RSA modulus),
so a truncated paste or a DSA key is refused with the reason. Only ``type base64`` is kept:
no options (``command=…``), no comment (the student's free text).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from dataclasses import dataclass

from bot.errors import UserError
from bot.ports import RuntimeFaultError
from bot.services import Services
from models import selfservice as store
from models.tables import Rental

logger = logging.getLogger(__name__)

MIN_RSA_BITS = 2048
MAX_KEY_CHARS = 16_384
ECDSA_BITS = {"ecdsa-sha2-nistp256": 256, "ecdsa-sha2-nistp384": 384,
              "ecdsa-sha2-nistp521": 521}
REFUSED = {"ssh-dss": "key_dsa"}


@dataclass(frozen=True)
class PublicKey:
    kind: str
    line: str  # "type base64"
    bits: int
    fingerprint: str  # "SHA256:…" as ssh-keygen -l prints it


def _strings(blob: bytes) -> list[bytes]:
    """The blob's length-prefixed fields (SSH wire format)."""
    out, at = [], 0
    while at < len(blob):
        if at + 4 > len(blob):
            raise ValueError("truncated")
        size = int.from_bytes(blob[at:at + 4], "big")
        at += 4
        if size > len(blob) - at:
            raise ValueError("truncated")
        out.append(blob[at:at + size])
        at += size
    return out


def parse(text: str) -> PublicKey:
    """The key in ``text``; UserError with the reason when it is not one we accept."""
    words = text.strip().split()
    if "PRIVATE KEY" in text:
        raise UserError("key_private")
    if len(text) > MAX_KEY_CHARS or len(words) < 2:
        raise UserError("key_bad")
    kind, b64 = words[0], words[1]
    if kind in REFUSED:
        raise UserError(REFUSED[kind])
    if kind not in {"ssh-ed25519", "ssh-rsa", *ECDSA_BITS}:
        raise UserError("key_kind", kind=kind[:40])
    try:
        blob = base64.b64decode(b64, validate=True)
        fields = _strings(blob)
    except (binascii.Error, ValueError):
        raise UserError("key_bad") from None
    if not fields or fields[0] != kind.encode():
        raise UserError("key_bad")
    bits = _bits(kind, fields)
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return PublicKey(kind, f"{kind} {b64}", bits, f"SHA256:{digest}")


def _bits(kind: str, fields: list[bytes]) -> int:
    if kind == "ssh-ed25519":
        if len(fields) != 2 or len(fields[1]) != 32:
            raise UserError("key_bad")
        return 256
    if kind in ECDSA_BITS:
        if len(fields) != 3:
            raise UserError("key_bad")
        return ECDSA_BITS[kind]
    if len(fields) != 3:
        raise UserError("key_bad")
    bits = int.from_bytes(fields[2], "big").bit_length()
    if bits < MIN_RSA_BITS:
        raise UserError("key_rsa_short", bits=bits, least=MIN_RSA_BITS)
    return bits


def keys_only(services: Services, rental: Rental) -> bool:
    """Password login is off for this rental: the option is on and its student has a key."""
    return bool(services.config.rental.keys_only_when_keyed
                and store.key_count(rental.user) > 0)


async def install(services: Services, rental: Rental, host: str, cid: str) -> bool:
    """Put the student's keys into a (new) container; turn its password off when the option
    says so. True when the password no longer works."""
    for key in store.keys_of(rental.user):
        await services.runtime.add_ssh_key(host, cid, key.key)
    if keys_only(services, rental):
        await services.runtime.lock_password(host, cid)
        return True
    return False


async def install_quietly(services: Services, rental: Rental, host: str, cid: str) -> bool:
    """:func:`install` for a container that already works: a failure is logged, not raised."""
    try:
        return await install(services, rental, host, cid)
    except RuntimeFaultError as fault:
        logger.error("R%d: SSH keys not installed: %s", rental.id, fault.message)
        return False
