"""Every benchmark, each in a fresh process, and one table of ratios measured in this run.

    python -m bench [--quick] [--only NAME ...]

A benchmark whose work was not done (rows missing, messages not received, bytes that do not
parse) fails loudly: its row says so and the command exits with status 1. docs/benchmarks.md
describes each row.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
import traceback

from bench.common import NotDone, Row

MARK = "BENCH-ROWS "

# name -> (module, keyword arguments of its rows())
BENCHMARKS: dict[str, tuple[str, dict[str, str]]] = {
    "rsvp": ("bench.rsvp", {"backend": "sqlite"}),
    "rsvp-postgresql": ("bench.rsvp", {"backend": "postgresql"}),
    "reminders": ("bench.reminders", {}),
    "feeds": ("bench.feeds", {}),
    "feed-http": ("bench.feed_http", {}),
    "startup": ("bench.startup", {}),
    "wizard": ("bench.wizard", {}),
}


def run_one(name: str, quick: bool) -> list[Row]:
    """Run one benchmark in this process."""
    module, kwargs = BENCHMARKS[name]
    return importlib.import_module(module).rows(quick=quick, **kwargs)


def run_child(name: str, quick: bool) -> tuple[list[Row], str]:
    """Run one benchmark in a fresh process; its rows, or a failed row and the reason."""
    command = [sys.executable, "-m", "bench", "--child", name]
    if quick:
        command.append("--quick")
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1200)
    seconds = time.perf_counter() - began
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            rows = [Row.from_dict(data) for data in json.loads(line[len(MARK) :])]
            return rows, f"{name}: {seconds:.0f} s"
    reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
    failed = Row(
        name=name,
        baseline="",
        measured="FAILED",
        ratio=None,
        goal="",
        met=False,
        note=reason[:300],
    )
    return [failed], f"{name}: FAILED after {seconds:.0f} s\n{done.stderr[-3000:]}"


def table(rows: list[Row]) -> str:
    header = ("benchmark", "baseline", "measured", "ratio", "goal", "met?")
    lines = [
        (
            row.name,
            row.baseline,
            row.measured,
            "—" if row.ratio is None else f"{row.ratio:.3f}",
            row.goal,
            {True: "yes", False: "NO", None: "—"}[row.met],
        )
        for row in rows
    ]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    notes = [f"- {row.name}: {row.note}" for row in rows if row.note]
    return "\n".join(out + (["", *notes] if notes else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only this one (again)"
    )
    parser.add_argument("--child", choices=sorted(BENCHMARKS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        try:
            rows = run_one(args.child, args.quick)
        except NotDone as exc:
            print(f"{args.child}: the work was not done: {exc}", file=sys.stderr)
            return 1
        except Exception:
            traceback.print_exc()
            return 1
        print(MARK + json.dumps([row.to_dict() for row in rows]), flush=True)
        return 0
    names = args.only or list(BENCHMARKS)
    rows: list[Row] = []
    for name in names:
        found, log = run_child(name, args.quick)
        print(log, file=sys.stderr, flush=True)
        rows += found
    print(table(rows))
    return 1 if any(row.measured == "FAILED" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
