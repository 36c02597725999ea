"""Reading a TOML table key by key, so that every error names the file, the key and the fault.

Every number has bounds: a value that parses but is absurd (``1e9`` hours, ``10**12`` days, a
5000-digit price) would otherwise surface much later as an overflow, a hang or a refused quote.
"""

from __future__ import annotations

import math
import re
from typing import Any

from billing.money import MoneyError, parse_money

_SIZE = re.compile(r"^(\d{1,16})([bkmg]?)$", re.IGNORECASE)
_SIZE_FACTOR = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}
MAX_SIZE = 2**50  # 1 PiB: past any machine's memory, well below Docker's int64 fields
_MONEY_CHARS = 32  # longer than any real amount; keeps int() away from huge digit strings


class ConfigError(Exception):
    """A problem in the configuration, worded for the admin who wrote it."""


class Reader:
    """Pulls typed values out of a TOML table and words errors with their key path."""

    def __init__(self, path: str, data: dict[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}{key}: {what}")

    def sub(self, key: str) -> Reader:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return Reader(self.path, value, f"{self.prefix}{key}.")

    def items(self, key: str) -> list[Reader]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be a list of tables ([[" + key + "]])")
        return [Reader(self.path, v, f"{self.prefix}{key}[{i}].") for i, v in enumerate(value)]

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {shown(value)}")
        return value

    def need(self, key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in self.data:
            raise self.fail(key, "is required")
        return self.get(key, kind)

    def whole(self, key: str, default: int, low: int, high: int) -> int:
        """A whole number in [low, high]."""
        return bounded_int(self, key, self.get(key, int, default), low, high)

    def number(self, key: str, default: float, low: float, high: float) -> float:
        """A finite number with low < value <= high (no zero, no NaN, no infinity)."""
        value = self.get(key, (int, float), default)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(key, f"{value!r} is not a finite number")
        if not low < value <= high:
            raise self.fail(key, f"{shown(value)} is out of range: must be above {low:g} "
                                 f"and at most {high:g}")
        return float(value)

    def money(self, key: str, default: str) -> int:
        value = self.get(key, (str, int, float), default)
        if (isinstance(value, int) and value.bit_length() > 64) or len(str(value)) > _MONEY_CHARS:
            raise self.fail(key, f"{shown(value)} is not an amount")
        raw = str(value)
        try:
            return parse_money(raw)
        except MoneyError as exc:
            raise self.fail(key, str(exc)) from None


def bounded_int(r: Reader, key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise r.fail(key, f"expected a whole number, got {shown(value)}")
    if not low <= value <= high:
        raise r.fail(key, f"{shown(value)} is out of range: must be from {low} to {high}")
    return value


def port(r: Reader, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise r.fail(key, f"{shown(value)} is not a port")
    return value


def size(r: Reader, key: str) -> str | None:
    """A Docker size like "28g"; None when unset."""
    value = r.get(key, str)
    if value is None:
        return None
    match = _SIZE.match(value)
    if match is None:
        raise r.fail(key, f"{shown(value)} is not a size like '28g' or '512m'")
    if int(match[1]) * _SIZE_FACTOR[match[2].lower()] > MAX_SIZE:
        raise r.fail(key, f"{value!r} is larger than 1 PiB")
    return value


def shown(value: Any) -> str:
    """The value as the error shows it: capped, so a 5000-digit number stays readable."""
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 128 else "a number"
    return text if len(text) <= 40 else text[:37] + "..."


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))
