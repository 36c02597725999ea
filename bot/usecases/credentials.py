"""Secrets for a new container and the message that hands them over.

The root password exists in memory only long enough to set it (chpasswd on exec stdin) and
to send it; the database keeps a salted scrypt hash so an admin can verify a claim later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import datetime, timedelta

from bot.i18n import esc, t
from bot.services import Services

# No look-alikes (0/O, 1/l/I) so a password read off a phone can be typed.
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
PASSWORD_LENGTH = 20


def new_password(length: int = PASSWORD_LENGTH) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), digest_hex)


def jupyter_url(address: str, port: int, token: str) -> str:
    """The link that logs straight in; without a token, the plain address."""
    base = f"http://{address}:{port}/lab"
    return f"{base}?token={token}" if token else base


def credentials_text(services: Services, lang: str, *, ref: str, host: str, address: str,
                     ports: dict[int, int], password: str, url: str, expires: datetime,
                     delete_at: datetime) -> str:
    extras = "".join(t(lang, "cred_extra_port", inner=inner, outer=outer) + "\n"
                     for inner, outer in sorted(ports.items()) if inner not in (22, 8888))
    return t(lang, "credentials", ref=ref, host=esc(host), address=esc(address),
             ssh_port=ports[22], password=esc(password), url=esc(url), extras=extras,
             expires=services.config.lab_time(expires),
             delete_at=services.config.lab_time(delete_at))


def delete_after(services: Services, now: datetime) -> datetime:
    return now + timedelta(hours=services.config.rental.password_message_ttl_h)
