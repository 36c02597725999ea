"""Where a rental goes: pure best-fit placement over hosts' free GPUs, and port picking."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    host: str
    gpu_ids: tuple[str, ...]


def best_fit(need: int, free: Mapping[str, Sequence[str]]) -> Placement | None:
    """The host with the fewest free GPUs that still fits ``need``, so that larger slots stay
    open for larger requests. Ties go to the host listed first. GPUs taken lowest id first."""
    fitting = [(len(gpus), order, host) for order, (host, gpus) in enumerate(free.items())
               if len(gpus) >= need]
    if not fitting:
        return None
    _, _, host = min(fitting)
    chosen = sorted(free[host], key=int)[:need]
    return Placement(host=host, gpu_ids=tuple(chosen))


def pick_ports(port_range: tuple[int, int], taken: Iterable[int], count: int,
               start_after: int | None = None) -> list[int]:
    """``count`` free ports from the inclusive range, lowest first (or after ``start_after``,
    wrapping round). Returns fewer when the range is nearly full."""
    lo, hi = port_range
    blocked = set(taken)
    first = lo if start_after is None or start_after >= hi else start_after + 1
    order = [*range(first, hi + 1), *range(lo, first)]
    chosen: list[int] = []
    for port in order:
        if port not in blocked:
            chosen.append(port)
            if len(chosen) == count:
                break
    return chosen
