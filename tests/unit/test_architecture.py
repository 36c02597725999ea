"""The shape of the code: one writer of a rental's state, and no import circles.

Both read the source (``ast``), so they hold for code no test happens to run."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "docker_ops", "billing", "models")
RENTAL_WRITES = {"update", "insert", "insert_many", "create", "replace", "get_or_create",
                 "bulk_update", "bulk_create"}


def sources(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def state_writes(path: Path) -> list[str]:
    """Places that write a rental row (or any ``.state``) directly."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if isinstance(target, ast.Name) and target.id == "Rental" \
                    and node.func.attr in RENTAL_WRITES:
                found.append(f"{path.name}:{node.lineno} Rental.{node.func.attr}")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and t.attr == "state":
                    found.append(f"{path.name}:{node.lineno} .state =")
    return found


def test_only_models_write_a_rentals_state() -> None:
    outside = [w for p in sources("bot", "handlers", "docker_ops", "billing")
               for w in state_writes(p)]
    assert outside == []


def test_the_state_check_finds_a_direct_write(tmp_path: Path) -> None:
    sample = tmp_path / "writer.py"
    sample.write_text("def f(r):\n    Rental.update(state='x').execute()\n    r.state = 'y'\n",
                      encoding="utf-8")
    assert sorted(state_writes(sample)) == ["writer.py:2 Rental.update", "writer.py:3 .state ="]


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Project modules ``path`` imports, at the top or inside functions alike."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in known:
                    found.add(full)
                elif base in known:
                    found.add(base)
    found.discard(me)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles() -> None:
    paths = sources(*PACKAGES)
    known = {module_name(p) for p in paths}
    graph = {module_name(p): imports_of(p, known) for p in paths}
    assert cycles(graph) == []


def test_the_circle_check_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_clock_reads_the_time() -> None:
    readers = []
    for path in sources(*PACKAGES):
        if path == ROOT / "bot" / "clock.py":
            continue
        text = path.read_text(encoding="utf-8")
        for call in ("datetime.now(", "datetime.utcnow(", "date.today(", "time.time("):
            if call in text:
                readers.append(f"{path.relative_to(ROOT)}: {call}")
    assert readers == []
