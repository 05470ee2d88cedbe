"""Telegram's flood limits: sliding-window counters and the violations they find."""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from enum import StrEnum


class ChatKind(StrEnum):
    """How a chat counts for the limits."""

    PRIVATE = "private"
    GROUP = "group"


class ViolationKind(StrEnum):
    """Which limit was broken."""

    OVERALL = "overall"
    PRIVATE_CHAT = "private_chat"
    GROUP = "group"
    AFTER_RETRY_AFTER = "after_retry_after"


@dataclass
class Limits:
    """Flood limits the emulator counts (and, with ``enforce``, answers with 429).

    ``scale`` multiplies every rate, the way the bot's ``EVENTS_SEND_RATE`` is multiplied by
    the same factor: with ``scale=5`` the bot may send 150 messages per second overall, one
    message per 0.2 s (minus slack/5) to a private chat and 20 writes per 12 s to a group.
    Internally every time window, the private-chat interval and its slack are divided by
    ``scale``; the counts (30, 1, 20) stay. ``retry_after`` values are real seconds.
    """

    overall_per_second: int = 30
    private_interval: float = 1.0
    private_slack: float = 0.2
    group_per_minute: int = 20
    scale: float = 1.0
    enforce: bool = False

    @property
    def overall_window(self) -> float:
        """Seconds of the overall window (1 s at scale 1)."""
        return 1.0 / self.scale

    @property
    def private_min_gap(self) -> float:
        """Smallest allowed gap between two sends to one private chat (0.8 s at scale 1)."""
        return (self.private_interval - self.private_slack) / self.scale

    @property
    def group_window(self) -> float:
        """Seconds of the group window (60 s at scale 1)."""
        return 60.0 / self.scale


@dataclass(frozen=True)
class Violation:
    """One broken limit: what, where, when (``time.monotonic``) and details."""

    kind: ViolationKind
    chat_id: int | None
    time: float
    detail: str
    rejected: bool = False


@dataclass(frozen=True)
class Write:
    """A successful write the limits count: a new message (``is_send``) or an edit."""

    chat_id: int
    chat_kind: ChatKind
    is_send: bool
    message_id: int | None = None


def _max_in_window(times: list[float], seconds: float) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass
class RateTracker:
    """Records writes and finds violations of :class:`Limits`."""

    limits: Limits
    sends: list[float] = field(default_factory=list)
    private_sends: dict[int, list[float]] = field(default_factory=dict)
    group_writes: dict[int, list[float]] = field(default_factory=dict)
    edit_times: dict[tuple[int, int], list[float]] = field(default_factory=dict)
    retry_until: dict[int, float] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    def _count_since(self, times: list[float], since: float) -> int:
        return len(times) - bisect.bisect_right(times, since)

    def assess(self, write: Write, now: float) -> list[tuple[Violation, float]]:
        """Violations this write would cause now, each with the wait that would avoid it."""
        limits = self.limits
        found: list[tuple[Violation, float]] = []
        if write.is_send:
            window = limits.overall_window
            count = self._count_since(self.sends, now - window) + 1
            if count > limits.overall_per_second:
                wait = self.sends[-limits.overall_per_second] + window - now
                detail = f"{count} sends within {window:g} s (limit {limits.overall_per_second})"
                found.append((Violation(ViolationKind.OVERALL, write.chat_id, now, detail), wait))
        if write.is_send and write.chat_kind is ChatKind.PRIVATE:
            previous = self.private_sends.get(write.chat_id)
            if previous and now - previous[-1] < limits.private_min_gap:
                gap = now - previous[-1]
                wait = previous[-1] + limits.private_interval / limits.scale - now
                detail = f"{gap:.3f} s after the previous send (minimum {limits.private_min_gap:g})"
                found.append(
                    (Violation(ViolationKind.PRIVATE_CHAT, write.chat_id, now, detail), wait)
                )
        if write.chat_kind is ChatKind.GROUP:
            window = limits.group_window
            times = self.group_writes.get(write.chat_id, [])
            count = self._count_since(times, now - window) + 1
            if count > limits.group_per_minute:
                wait = times[-limits.group_per_minute] + window - now
                detail = f"{count} writes within {window:g} s (limit {limits.group_per_minute})"
                found.append((Violation(ViolationKind.GROUP, write.chat_id, now, detail), wait))
        return found

    def admit(self, write: Write, now: float) -> int | None:
        """Record violations of this write; with ``enforce`` return the retry_after to answer."""
        found = self.assess(write, now)
        if not found:
            return None
        enforce = self.limits.enforce
        for violation, _ in found:
            self.violations.append(
                Violation(violation.kind, violation.chat_id, now, violation.detail, enforce)
            )
        if not enforce:
            return None
        retry_after = max(1, math.ceil(max(wait for _, wait in found)))
        self.retry_until[write.chat_id] = now + retry_after
        return retry_after

    def commit(self, write: Write, now: float) -> None:
        """Count a write that happened."""
        if write.is_send:
            self.sends.append(now)
            if write.chat_kind is ChatKind.PRIVATE:
                self.private_sends.setdefault(write.chat_id, []).append(now)
        if write.chat_kind is ChatKind.GROUP:
            self.group_writes.setdefault(write.chat_id, []).append(now)
        if not write.is_send and write.message_id is not None:
            self.edit_times.setdefault((write.chat_id, write.message_id), []).append(now)

    def note_retry_after(self, chat_id: int, seconds: int, now: float) -> None:
        """A 429 told the bot to leave ``chat_id`` alone for ``seconds``."""
        self.retry_until[chat_id] = max(self.retry_until.get(chat_id, 0.0), now + seconds)

    def check_retry_after(self, chat_id: int, now: float) -> int | None:
        """A write to ``chat_id`` arrived: a violation if it is inside a retry_after period.

        Returns the seconds still to wait (for an enforced 429), else None.
        """
        until = self.retry_until.get(chat_id)
        if until is None or now >= until:
            return None
        remaining = until - now
        self.violations.append(
            Violation(
                ViolationKind.AFTER_RETRY_AFTER,
                chat_id,
                now,
                f"{remaining:.3f} s before retry_after passed",
                self.limits.enforce,
            )
        )
        return max(1, math.ceil(remaining))

    def max_overall_in_window(self, seconds: float | None = None) -> int:
        """Most sends in any window of ``seconds`` (default: the scaled overall window)."""
        return _max_in_window(self.sends, seconds or self.limits.overall_window)

    def max_group_writes_in_window(self, chat_id: int, seconds: float | None = None) -> int:
        """Most writes to a group in any window (default: the scaled group window)."""
        times = self.group_writes.get(chat_id, [])
        return _max_in_window(times, seconds or self.limits.group_window)

    def edit_gaps(self, chat_id: int, message_id: int) -> list[float]:
        """Seconds between consecutive successful edits of one message."""
        times = self.edit_times.get((chat_id, message_id), [])
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    def private_gaps(self, chat_id: int) -> list[float]:
        """Seconds between consecutive sends to one private chat."""
        times = self.private_sends.get(chat_id, [])
        return [later - earlier for earlier, later in itertools.pairwise(times)]
