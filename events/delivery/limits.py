"""Telegram's flood limits, kept by the bot itself (CONTRACT §2).

A :class:`Limiter` is asked for a turn before every write (a new message or an edit) and told
when the write has finished. It keeps, for every caller in the process:

- overall at most ``per_second`` writes in any sliding one-second window, spread out rather
  than in bursts. A write counts from the moment it is granted until one window after its
  answer came back: Telegram counts it when it arrives, which is somewhere in between, so
  however long it travelled (a busy process, a slow network) no window Telegram looks at
  holds more than ``per_second`` of them;
- one write at a time to a chat, and at least ``private_interval`` between writes to one
  private chat;
- at most ``group_per_minute`` writes in any sliding minute to one group;
- after a 429 for a chat, nothing to that chat before ``retry_after`` has passed, and the
  overall rate halved, recovering step by step once a while passes without 429.

Time is the process's monotonic clock, never the bot's movable clock: Telegram counts real
seconds. The in-memory implementation serves one process;
:class:`~events.delivery.redis_limits.RedisLimiter` keeps the same limits across several.

Writes that do not take a turn (the answers to the person acting, sent right after their update)
are still counted: :class:`CountOtherWrites`, a request middleware of the bot's session, tells
the limiter about them, so what delivery sends leaves room around them.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods.base import TelegramMethod, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response


class ChatKind(StrEnum):
    """How a chat counts for the limits."""

    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True)
class RateLimits:
    """The limits, in real seconds at ``scale`` 1.

    ``scale`` speeds every window up the way the test emulator's ``Limits(scale=...)`` does:
    rates are multiplied by it, intervals and windows divided by it. The counts stay.
    """

    per_second: float = 25.0
    private_interval: float = 1.0
    group_per_minute: int = 20
    backoff: float = 0.5  # the overall rate is multiplied by this after a 429
    floor: float = 0.2  # ... but never below this share of per_second
    recover_after: float = 10.0  # seconds without 429 before each step back up
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.scale <= 0:
            raise ValueError("per_second and scale must be positive")

    def scaled(self, factor: float) -> RateLimits:
        """The same limits sped up by ``factor`` (for tests; see the class docstring)."""
        return replace(self, scale=self.scale * factor)

    @property
    def window(self) -> float:
        """The overall window in seconds (1 s at scale 1)."""
        return 1.0 / self.scale

    @property
    def private_gap(self) -> float:
        return self.private_interval / self.scale

    @property
    def group_window(self) -> float:
        return 60.0 / self.scale

    @property
    def recovery(self) -> float:
        return self.recover_after / self.scale

    @property
    def sends_per_second(self) -> float:
        """Real writes per second at full rate (``per_second`` × ``scale``)."""
        return self.per_second * self.scale


@dataclass(frozen=True)
class Permit:
    """The answer to :meth:`Limiter.acquire`.

    ``granted``: the write may start now (and must be followed by :meth:`Limiter.release`).
    Otherwise ``wait`` is how long to wait before asking again, and ``overall`` says the
    overall rate refused it, so no other chat can go now either.
    """

    granted: bool
    wait: float = 0.0
    overall: bool = False


GRANTED = Permit(True)


class Limiter(ABC):
    """Turns for writes to Telegram chats. Every method is safe to call from one event loop."""

    limits: RateLimits

    @abstractmethod
    async def acquire(self, chat_id: int, kind: ChatKind) -> Permit:
        """Take a turn for one write to ``chat_id`` now, or say how long to wait."""

    @abstractmethod
    async def release(self, chat_id: int, kind: ChatKind, *, counted: bool = True) -> None:
        """The write of a granted turn has finished (whatever its outcome); ``counted``:
        False for a write begun with ``send=False``, which the overall rate does not count."""

    @abstractmethod
    async def begin(self, chat_id: int, kind: ChatKind, *, send: bool) -> None:
        """A write that took no turn is starting (``send``: a new message, not an edit);
        :meth:`release` follows when it has finished (with ``counted=send``)."""

    @abstractmethod
    async def retry_after(self, chat_id: int, seconds: float) -> None:
        """Telegram answered 429 for ``chat_id``: leave it alone for ``seconds``, slow down."""

    @abstractmethod
    def rate(self) -> float:
        """Writes per real second allowed now (lower while backing off)."""

    async def turn(self, chat_id: int, kind: ChatKind) -> None:
        """Wait for a turn and take it."""
        while True:
            permit = await self.acquire(chat_id, kind)
            if permit.granted:
                return
            await asyncio.sleep(max(permit.wait, 0.001))


class InMemoryLimiter(Limiter):
    """The limits for one process."""

    def __init__(
        self, limits: RateLimits | None = None, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or RateLimits()
        self._now = now
        self._rate = self.limits.per_second  # per (scaled) window
        self._last_429: float | None = None
        self._in_flight = 0  # counted writes granted and not answered yet
        self._answered: deque[float] = deque()  # when counted writes were answered, in order
        self._next_start = float("-inf")
        self._busy: Counter[int] = Counter()
        self._private_free: dict[int, float] = {}
        self._group_writes: dict[int, deque[float]] = {}
        self._closed_until: dict[int, float] = {}
        self._grants = 0

    def rate(self) -> float:
        return self._rate * self.limits.scale

    async def acquire(self, chat_id: int, kind: ChatKind) -> Permit:
        now = self._now()
        limits = self.limits
        self._recover(now)

        closed = self._closed_until.get(chat_id)
        if closed is not None:
            if now < closed:
                return Permit(False, closed - now)
            del self._closed_until[chat_id]
        if self._busy[chat_id] > 0:
            # Freed by release(); the caller hears of that anyway.
            return Permit(False, limits.private_gap)
        if kind is ChatKind.PRIVATE:
            free = self._private_free.get(chat_id)
            if free is not None and now < free:
                return Permit(False, free - now)
        else:
            writes = self._group_writes.get(chat_id)
            if writes:
                while writes and writes[0] <= now - limits.group_window:
                    writes.popleft()
                if len(writes) >= limits.group_per_minute:
                    return Permit(False, writes[0] + limits.group_window - now)

        answered = self._answered
        while answered and answered[0] <= now - limits.window:
            answered.popleft()
        if self._in_flight + len(answered) >= max(1, int(self._rate)):
            # Without an answer to count from, the next release will be heard of anyway.
            wait = answered[0] + limits.window - now if answered else limits.window / self._rate
            return Permit(False, wait, overall=True)
        if now < self._next_start:
            return Permit(False, self._next_start - now, overall=True)

        self._in_flight += 1
        self._next_start = now + limits.window / self._rate
        self._busy[chat_id] += 1
        self._grants += 1
        if self._grants % 1000 == 0:
            self._forget(now)
        return GRANTED

    async def release(self, chat_id: int, kind: ChatKind, *, counted: bool = True) -> None:
        # Counted from the answer: Telegram had the write by then, so the next one to this
        # chat arrives at least an interval later however long this one travelled.
        now = self._now()
        if counted:
            self._in_flight = max(0, self._in_flight - 1)
            self._answered.append(now)
        self._busy[chat_id] -= 1
        if self._busy[chat_id] <= 0:
            del self._busy[chat_id]
        if kind is ChatKind.PRIVATE:
            self._private_free[chat_id] = now + self.limits.private_gap
        else:
            self._group_writes.setdefault(chat_id, deque()).append(now)

    async def begin(self, chat_id: int, kind: ChatKind, *, send: bool) -> None:
        now = self._now()
        self._busy[chat_id] += 1
        if send:
            self._in_flight += 1
            self._next_start = max(self._next_start, now + self.limits.window / self._rate)

    async def retry_after(self, chat_id: int, seconds: float) -> None:
        now = self._now()
        until = now + max(seconds, 0.0)
        self._closed_until[chat_id] = max(self._closed_until.get(chat_id, until), until)
        limits = self.limits
        self._rate = max(limits.per_second * limits.floor, self._rate * limits.backoff, 1.0)
        self._rate = min(self._rate, limits.per_second)
        self._last_429 = now

    def _recover(self, now: float) -> None:
        if self._last_429 is None or self._rate >= self.limits.per_second:
            return
        if now - self._last_429 >= self.limits.recovery:
            self._rate = min(self.limits.per_second, self._rate / self.limits.backoff)
            self._last_429 = now

    def _forget(self, now: float) -> None:
        """Drop what no longer limits anything, so memory follows the active chats only."""
        self._private_free = {c: t for c, t in self._private_free.items() if t > now}
        self._closed_until = {c: t for c, t in self._closed_until.items() if t > now}
        horizon = now - self.limits.group_window
        self._group_writes = {c: w for c, w in self._group_writes.items() if w and w[-1] > horizon}


# Set while a write holds a turn of the limiter, so CountOtherWrites does not count it twice.
_in_turn: ContextVar[bool] = ContextVar("delivery_in_turn", default=False)


@contextmanager
def holding_turn() -> Iterator[None]:
    """Around a bot call made with a turn of the limiter."""
    token = _in_turn.set(True)
    try:
        yield
    finally:
        _in_turn.reset(token)


SENDS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "copyMessage"})
EDITS = frozenset(
    {"editMessageText", "editMessageReplyMarkup", "editMessageCaption", "editMessageMedia"}
)


def chat_kind(chat_id: int | str) -> ChatKind:
    """Users have positive ids; groups, supergroups (and @names) are not private chats."""
    return ChatKind.PRIVATE if isinstance(chat_id, int) and chat_id > 0 else ChatKind.GROUP


class CountOtherWrites(BaseRequestMiddleware):
    """A request middleware of the bot's session: writes made without a turn are counted.

    Only counted, never delayed: the bot's answers to the person acting go out at once.
    Edits in a private chat are not counted (the per-chat limit is about messages).
    """

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        chat_id: Any = getattr(method, "chat_id", None)
        send = name in SENDS
        if _in_turn.get() or not (send or name in EDITS) or not isinstance(chat_id, int | str):
            return await make_request(bot, method)
        kind = chat_kind(chat_id)
        if kind is ChatKind.PRIVATE and not send:
            return await make_request(bot, method)
        key = chat_id if isinstance(chat_id, int) else hash(chat_id)
        await self.limiter.begin(key, kind, send=send)
        try:
            return await make_request(bot, method)
        finally:
            await self.limiter.release(key, kind, counted=send)
