"""What the process counts, written in Prometheus' text exposition format (version 0.0.4).

The format is a few lines of plain text, so it is written here rather than with a client
library: counters with fixed label names, each label's values known in advance (an update's
type, an outcome, a status, a feed's kind, an HTTP code). No label ever carries a token, a
person's or chat's id, a name or a title.

Counters live for the process (``METRICS``); Prometheus adds up the workers and notices a
restart by the start time. Gauges read from the database are written by `events.web.metrics`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

UPDATE_TYPES = ("message", "callback_query", "my_chat_member", "chat_member")
UPDATE_OUTCOMES = ("ok", "error")
DELIVERY_STATUSES = ("sent", "blocked", "failed", "expired", "unknown", "retried")
FEED_KINDS = ("personal", "community", "event")
FEED_CODES = ("200", "304", "404")


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def sample(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    """One line: ``name{label="value",…} value``."""
    if labels:
        inner = ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels.items())
        return f"{name}{{{inner}}} {_number(value)}"
    return f"{name} {_number(value)}"


def family(name: str, kind: str, help_: str, lines: Iterable[str]) -> list[str]:
    """A metric's HELP and TYPE lines followed by its samples."""
    return [f"# HELP {name} {_escape_help(help_)}", f"# TYPE {name} {kind}", *lines]


@dataclass
class Counter:
    """A counter with fixed label names; ``known`` label values are shown from zero."""

    name: str
    help: str
    labels: Sequence[str]
    known: Iterable[Sequence[str]] = ()
    _values: dict[tuple[str, ...], float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for values in self.known:
            self._values.setdefault(tuple(values), 0.0)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = tuple(labels[name] for name in self.labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(labels[name] for name in self.labels), 0.0)

    def render(self) -> list[str]:
        lines = [
            sample(self.name, value, dict(zip(self.labels, key, strict=True)))
            for key, value in sorted(self._values.items())
        ]
        return family(self.name, "counter", self.help, lines)


@dataclass
class Metrics:
    """The process's counters."""

    updates: Counter = field(
        default_factory=lambda: Counter(
            "events_updates_total",
            "Telegram updates handled, by update type and outcome (error: the handler failed).",
            ("type", "outcome"),
            [(t, o) for t in UPDATE_TYPES for o in UPDATE_OUTCOMES],
        )
    )
    deliveries: Counter = field(
        default_factory=lambda: Counter(
            "events_delivery_outcomes_total",
            "Outcomes of delivery's sends written to the ledger, by status "
            "(retried: put back to pending for another try).",
            ("status",),
            [(s,) for s in DELIVERY_STATUSES],
        )
    )
    feed_requests: Counter = field(
        default_factory=lambda: Counter(
            "events_feed_requests_total",
            "Calendar feed requests, by feed kind and HTTP response code.",
            ("kind", "code"),
            [(k, c) for k in FEED_KINDS for c in FEED_CODES],
        )
    )
    started: float = field(default_factory=time.time)

    def render(self) -> list[str]:
        return [
            *self.updates.render(),
            *self.deliveries.render(),
            *self.feed_requests.render(),
            *family(
                "events_process_start_time_seconds",
                "gauge",
                "When this process started, in seconds since the Unix epoch.",
                [sample("events_process_start_time_seconds", round(self.started, 3))],
            ),
        ]


METRICS = Metrics()

# ----------------------------------------------------------------- counting what commits

_PENDING_KEY = "events.metrics.pending"
_LISTENING_KEY = "events.metrics.listening"


@dataclass
class _Pending:
    transaction: SessionTransaction | None
    counts: list[Callable[[], None]] = field(default_factory=list)


def on_commit(session: AsyncSession, count: Callable[[], None]) -> None:
    """Call ``count()`` once the transaction of ``session`` commits (never if it rolls back):
    an outcome is counted when it is written, not when a write is tried again."""
    sync = session.sync_session
    root = sync.get_transaction()
    pending: _Pending | None = sync.info.get(_PENDING_KEY)
    if pending is None or pending.transaction is not root:
        pending = sync.info[_PENDING_KEY] = _Pending(root)
    if not sync.info.get(_LISTENING_KEY):
        event.listen(sync, "after_commit", _committed)
        sync.info[_LISTENING_KEY] = True
    pending.counts.append(count)


def _committed(sync: Session) -> None:
    if sync.in_nested_transaction():
        return
    pending: _Pending | None = sync.info.pop(_PENDING_KEY, None)
    if pending is None or pending.transaction is not sync.get_transaction():
        return
    for count in pending.counts:
        count()


def count_delivery(session: AsyncSession, status: str, amount: int = 1) -> None:
    """Count ``amount`` delivery outcomes of ``status`` when ``session`` commits."""
    if amount > 0:
        on_commit(session, lambda: METRICS.deliveries.inc(amount, status=status))
