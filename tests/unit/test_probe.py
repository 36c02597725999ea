"""The probe that tells whether a running container has sshd and Jupyter: an answer that
comes back without its closing line (Docker 20.10 can drop a quick exec's output) is asked
again, never read as "no sshd"."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from docker_ops import execs
from docker_ops.errors import ContainerStartError


class Answers:
    """An engine whose probe execs answer in turn with the given (exit code, output)."""

    name = "HPC1"

    def __init__(self, *answers: tuple[int, str]) -> None:
        self.answers, self.calls = list(answers), 0

    async def call(self, op: str, fn: Any, **kwargs: Any) -> tuple[int, str]:
        self.calls += 1
        return self.answers.pop(0)


def probe(engine: Answers) -> set[str]:
    return asyncio.run(execs.programs(engine, "c0ffee"))  # type: ignore[arg-type]


def test_a_whole_answer_names_the_programs() -> None:
    engine = Answers((0, f"sshd\njupyter-lab\n{execs.PROBED}\n"))
    assert probe(engine) == {"sshd", "jupyter-lab"} and engine.calls == 1


def test_an_image_without_either_answers_with_the_closing_line_only() -> None:
    assert probe(Answers((0, f"{execs.PROBED}\n"))) == set()


def test_a_lost_answer_is_asked_again() -> None:
    engine = Answers((0, ""), (0, f"sshd\n{execs.PROBED}\n"))
    assert probe(engine) == {"sshd"} and engine.calls == 2


def test_answers_that_never_come_whole_are_a_fault_not_a_verdict() -> None:
    engine = Answers(*[(0, "")] * execs.PROBE_TRIES)
    with pytest.raises(ContainerStartError, match="never came back whole"):
        probe(engine)
    assert engine.calls == execs.PROBE_TRIES


def test_a_failing_probe_is_a_fault_at_once() -> None:
    engine = Answers((126, ""))
    with pytest.raises(ContainerStartError, match="exit code 126"):
        probe(engine)
    assert engine.calls == 1
