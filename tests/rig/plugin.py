"""pytest plugin for the test rig: `pytest_plugins = ["tests.rig.plugin"]`.

Fixtures:
- `rig` (session): the started Rig; torn down at the end, and on exit or SIGTERM.
- `clean_rig` (function): the same Rig, reset after the test (containers and non-test images
  removed, GPU hooks working, daemons and registry running, workspaces emptied).
- `engines` (function): `clean_rig.engines`, HPC1 first.
- `rig_registry` (function): "127.0.0.1:PORT" of the loopback registry.
If the rig cannot run here (not root, dockerd missing, ...), its tests are skipped, or fail
when GPURENT_RIG_REQUIRED=1.  A failing test's report gets every rig container's state and logs.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Generator, Iterator
from types import FrameType
from typing import NoReturn

import pluggy
import pytest

from tests.rig.config import RigUnavailableError
from tests.rig.engines import Engine
from tests.rig.rig import Rig

logger = logging.getLogger(__name__)
_active: list[Rig] = []


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("GPURENT_RIG_REQUIRED") == "1":
        pytest.fail(f"test rig required but unavailable: {reason}", pytrace=False)
    pytest.skip(f"test rig unavailable: {reason}")


def _sayer(config: pytest.Config) -> Callable[[str], None]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def say(message: str) -> None:
        logger.info("%s", message)
        if reporter is None:
            return
        # Output is captured while a fixture runs; this line is for the terminal.
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"[gpurent rig] {message}")

    return say


def _stop_on_exit(rig: Rig) -> Callable[[], None]:
    """Tear the rig down on interpreter exit or SIGTERM too; returns the undo."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: FrameType | None) -> None:
        rig.stop()
        if callable(previous):
            previous(signum, frame)
        else:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    atexit.register(rig.stop)
    signal.signal(signal.SIGTERM, on_term)

    def undo() -> None:
        atexit.unregister(rig.stop)
        signal.signal(signal.SIGTERM, previous)

    return undo


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    the_rig = Rig()
    undo = _stop_on_exit(the_rig)
    try:
        the_rig.start(_sayer(request.config))
    except RigUnavailableError as exc:
        the_rig.stop()
        undo()
        _unavailable(str(exc))
    except BaseException:
        the_rig.stop()
        undo()
        raise
    _active.append(the_rig)
    yield the_rig
    _active.remove(the_rig)
    the_rig.stop()
    undo()


@pytest.fixture
def clean_rig(rig: Rig) -> Iterator[Rig]:
    yield rig
    rig.reset()


@pytest.fixture
def engines(clean_rig: Rig) -> list[Engine]:
    return clean_rig.engines


@pytest.fixture
def rig_registry(clean_rig: Rig) -> str:
    try:
        return clean_rig.registry
    except RigUnavailableError as exc:
        _unavailable(str(exc))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """Keep each phase's report on the item; attach container logs to a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rig_report_{report.when}", report)
    uses_rig = "rig" in getattr(item, "fixturenames", ())
    if report.failed and report.when in ("setup", "call") and _active and uses_rig:
        report.sections.append(("gpurent rig: containers", _active[0].dump_logs()))
