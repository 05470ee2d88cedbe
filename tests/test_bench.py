"""The benchmarks run and report a row in their tiniest configuration (no speed is asserted:
speed belongs in bench/, see docs/benchmarks.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import feeds, rsvp
from bench.__main__ import table
from tests.services import postgres_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_rsvp_benchmark_checks_every_dispatcher(backend: str) -> None:
    if backend == "postgresql":
        postgres_url()  # skips without EVENTS_TEST_POSTGRES_URL
    rates = await rsvp.measure(backend, taps=5, rounds=1)
    assert {"idle", "ceiling", "straightforward", "bot"} <= set(rates)
    assert rates["bot"] > 0


def test_the_feed_benchmark_reports_a_checked_row() -> None:
    [row] = feeds.rows(quick=True)
    assert row.ratio is not None
    assert row.ratio > 0
    assert row.met is not None
    assert row.name in table([row])


def test_python_m_bench_prints_one_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "feeds"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "| benchmark | baseline | measured | ratio | goal | met? |"
    assert any(line.startswith("| feed re-render after one change") for line in lines)
