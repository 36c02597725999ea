"""``[telegram]``: the token's source, the Bot API server, the proxy, the admins."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.config.reader import Reader

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
MAX_CHAT_ID = 2**63 - 1  # Telegram ids fit a signed 64-bit integer (the database column too)


@dataclass(frozen=True)
class TelegramConfig:
    token_env: str = "GPURENT_BOT_TOKEN"  # noqa: S105 - the variable's name, not a token
    token_file: str | None = None
    api_base_url: str = ""
    api_file_url: str = ""
    admins: tuple[int, ...] = ()
    admin_chat: int = 0
    proxy: str = ""  # "" = direct; http://, https://, socks5:// or socks5h://host:port


def parse_telegram(r: Reader) -> TelegramConfig:
    admins = r.get("admins", list, [])
    if not all(isinstance(a, int) and not isinstance(a, bool) and 0 < a <= MAX_CHAT_ID
               for a in admins):
        raise r.fail("admins", "expected a list of numeric Telegram user ids")
    if "token" in r.data:
        raise r.fail("token", "do not put the token in the file; use token_env or token_file")
    admin_chat = r.get("admin_chat", int, 0)
    if abs(admin_chat) > MAX_CHAT_ID:
        raise r.fail("admin_chat", "is not a Telegram chat id")
    return TelegramConfig(
        token_env=r.get("token_env", str, "GPURENT_BOT_TOKEN"),
        token_file=r.get("token_file", str), api_base_url=_url(r, "api_base_url"),
        api_file_url=_url(r, "api_file_url"), admins=tuple(admins),
        admin_chat=admin_chat, proxy=_proxy(r),
    )


def _url(r: Reader, key: str) -> str:
    value: str = r.get(key, str, "")
    if value and not value.startswith(("http://", "https://")):
        raise r.fail(key, f"{value!r}: expected an http:// or https:// address")
    return value


def _proxy(r: Reader) -> str:
    """The proxy URL, checked here: a typo would otherwise surface as a network error."""
    value: str = r.get("proxy", str, "").strip()
    if not value:
        return ""
    parts, shown = urlsplit(value), repr(_without_password(value))
    if parts.scheme not in PROXY_SCHEMES:
        raise r.fail("proxy", f"{shown}: expected a URL like \"socks5://127.0.0.1:1080\" "
                              f"or \"http://proxy.lab:3128\" ({', '.join(PROXY_SCHEMES)})")
    try:
        number = parts.port
    except ValueError:  # not a number, or past 65535
        number = None
    if not parts.hostname or not number:
        raise r.fail("proxy", f"{shown}: give the proxy's host and port, e.g. "
                              "\"socks5://127.0.0.1:1080\"")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise r.fail("proxy", f"{shown}: only scheme://[user:password@]host:port")
    return value


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    return f"{scheme}{sep}***@{host}" if at and userinfo else url


def proxy_shown(url: str) -> str:
    """The proxy as logs show it: without a password."""
    if not url:
        return "none"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}"
