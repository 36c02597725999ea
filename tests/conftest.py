"""Shared fixtures: the rig plugin (real Docker engines) and a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from models.db import close_database, open_database

pytest_plugins = ["tests.rig.plugin"]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'gpurent.db'}"
    open_database(url)
    yield url
    close_database()
