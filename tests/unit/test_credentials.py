"""Passwords: random, long, typed easily, stored only as a salted hash."""

from __future__ import annotations

from bot.usecases.credentials import (
    PASSWORD_LENGTH,
    hash_password,
    new_password,
    new_token,
    verify_password,
)


def test_passwords_are_long_and_never_repeat() -> None:
    seen = {new_password() for _ in range(200)}
    assert len(seen) == 200
    assert all(len(p) == PASSWORD_LENGTH >= 16 for p in seen)
    assert not any(c in p for p in seen for c in "0O1lI")


def test_hash_verifies_the_password_and_hides_it() -> None:
    password = new_password()
    stored = hash_password(password)
    assert password not in stored
    assert verify_password(password, stored)
    assert not verify_password(password + "x", stored)
    assert hash_password(password) != stored  # salted


def test_tokens_are_url_safe_and_unique() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(t.replace("-", "").replace("_", "").isalnum() for t in tokens)
