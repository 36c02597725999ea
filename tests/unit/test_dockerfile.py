"""The bot's Dockerfile builds from the right context: the package sources, their metadata and
data files go in (the wheel must carry the rentable template); the virtualenv, tests, databases
and caches stay out. The build itself runs in tests/e2e/test_bot_image.py."""

from __future__ import annotations

from pathlib import Path

from docker.utils.build import exclude_paths

ROOT = Path(__file__).resolve().parents[2]


def build_context() -> set[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line for line in lines if line.strip() and not line.startswith("#")]
    return set(exclude_paths(str(ROOT), patterns))


def test_the_context_holds_the_package_and_what_pip_needs_to_build_it() -> None:
    context = build_context()
    assert {"setup.cfg", "pyproject.toml", "README.md", "Dockerfile", "bot/cli.py",
            "docker_ops/rentable.Dockerfile", "models/tables.py"} <= context


def test_the_context_leaves_out_the_venv_tests_databases_and_caches() -> None:
    context = build_context()
    tops = {path.split("/")[0] for path in context}
    assert tops <= {".dockerignore", ".gitignore", "Dockerfile", "README.md", "pyproject.toml",
                    "setup.cfg", "wheelhouse", "bot", "handlers", "docker_ops", "billing",
                    "models"}, tops
    stray = [p for p in context if "__pycache__" in p or p.endswith((".db", ".db-wal", ".pyc"))]
    assert not stray
