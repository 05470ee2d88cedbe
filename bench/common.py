"""What every benchmark shares: its result row, the check that the work was done, timing helpers.

A row is a ratio against a baseline measured in the same run (the machine may be busy: only the
ratio is comparable between runs). A benchmark that finds the work undone raises
:class:`NotDone` instead of reporting a rate.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

TOKEN = "123456:BENCH-events-token"
BOT_USERNAME = "events_bench_bot"
# The server the PostgreSQL rows use (a database of their own is created on it and dropped).
POSTGRES_URL = os.environ.get(
    "EVENTS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


class NotDone(Exception):
    """The benchmark's work was not (all) done: no figure is reported."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise NotDone(message)


@dataclass
class Row:
    """One line of the table: ``measured / baseline`` is the ratio (both as rates or times)."""

    name: str
    baseline: str  # what the baseline is, with its figure
    measured: str  # the figure measured, with its unit
    ratio: float | None  # None when the row was skipped
    goal: str  # e.g. "≥ 0.35", "≤ 0.10", "report"
    met: bool | None  # None: nothing to meet (report only, or skipped)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        return cls(**data)


def at_least(ratio: float, goal: float) -> bool:
    return ratio >= goal


def at_most(ratio: float, goal: float) -> bool:
    return ratio <= goal


def best(work: Callable[[], object], rounds: int = 5) -> float:
    """The fastest of ``rounds`` runs, in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` (0..1) percentile, by the nearest rank."""
    ordered = sorted(values)
    if not ordered:
        raise NotDone("no samples")
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"
