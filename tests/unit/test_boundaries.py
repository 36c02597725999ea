"""Layering: billing and the use cases know nothing of Telegram or Docker; handlers never
import docker or peewee. Checked in a fresh interpreter so other tests' imports don't hide it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USECASES = sorted(p.stem for p in (ROOT / "bot" / "usecases").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", ["billing.money", "billing.plans", "billing.quote",
                                    *[f"bot.usecases.{m}" for m in USECASES]])
def test_module_imports_neither_telegram_nor_docker(module: str) -> None:
    code = (f"import sys, {module}; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('telegram', 'docker', 'pynvml')); print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"


@pytest.mark.parametrize("path", sorted((ROOT / "handlers").glob("*.py")), ids=lambda p: p.name)
def test_handlers_do_not_import_docker_or_peewee(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name.split(".")[0] for node in ast.walk(tree)
             if isinstance(node, ast.Import) for alias in node.names}
    names |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom)}
    assert not names & {"docker", "peewee", "playhouse", "docker_ops"}


def test_only_docker_ops_imports_docker() -> None:
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        top = path.relative_to(ROOT).parts[0]
        if top in ("docker_ops", "tests", "benchmarks", ".venv", "build") or top.startswith("."):
            continue
        text = path.read_text(encoding="utf-8")
        if "import docker\n" in text or "from docker " in text or "import pynvml" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
