"""Fixtures for the lifecycle, retention and usage tests: a fake runtime and services on it."""

from __future__ import annotations

import pytest

from bot.services import Services
from tests.unit.test_lifecycle import FakeRuntime, make_services


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def svc(database: str, runtime: FakeRuntime) -> Services:
    return make_services(runtime)
