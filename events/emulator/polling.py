"""The update queue and getUpdates long polling, with Telegram's offset and conflict rules."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import MSG_CONFLICT_POLLING, MSG_CONFLICT_WEBHOOK, ApiError

ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


@dataclass(eq=False)
class Update:
    """One update: its id, type and payload (a snapshot taken when it happened)."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    queued: bool
    created: float
    delivered: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


class _Poller:
    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.terminated: str | None = None  # why another request ended this poll


class UpdateQueue:
    """Pending updates, confirmed by offset; one long poll at a time."""

    def __init__(
        self, first_update_id: int = 1, on_change: Callable[[], None] | None = None
    ) -> None:
        self._on_change = on_change or (lambda: None)
        self.history: list[Update] = []
        self.pending: list[Update] = []
        self.allowed: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._next_id = first_update_id
        self._poller: _Poller | None = None
        self._closed = False

    @property
    def polling(self) -> bool:
        """A getUpdates call is waiting right now."""
        return self._poller is not None

    @property
    def next_id(self) -> int:
        """The id the next update gets."""
        return self._next_id

    def push(self, kind: str, payload: dict[str, Any]) -> Update:
        """Create an update; it is queued only if its type is currently allowed."""
        update = Update(self._next_id, kind, payload, kind in self.allowed, time.monotonic())
        self._next_id += 1
        self.history.append(update)
        if update.queued:
            self.pending.append(update)
            if self._poller is not None:
                self._poller.wake.set()
        return update

    def set_allowed(self, kinds: Iterable[str] | None) -> None:
        """Remember the filter like Telegram: an empty list means the default types."""
        if kinds is None:
            return
        chosen = frozenset(kinds)
        self.allowed = chosen & ALL_UPDATE_TYPES if chosen else DEFAULT_UPDATE_TYPES

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last -offset."""
        if offset > 0:
            self.pending = [u for u in self.pending if u.update_id >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]

    def drop_pending(self) -> None:
        self.pending.clear()

    def terminate_poller(self, reason: str = MSG_CONFLICT_POLLING) -> None:
        """End the waiting poll with 409 ``reason``."""
        if self._poller is not None:
            self._poller.terminated = reason
            self._poller.wake.set()

    def reopen(self) -> None:
        self._closed = False

    def close(self) -> None:
        """Wake any waiting poll so the server can stop."""
        self._closed = True
        if self._poller is not None:
            self._poller.wake.set()

    async def poll(
        self,
        *,
        offset: int | None,
        limit: int,
        wait: float,
        allowed_updates: list[str] | None,
        webhook_active: bool,
    ) -> list[dict[str, Any]]:
        """One getUpdates call."""
        if webhook_active:
            raise ApiError(409, MSG_CONFLICT_WEBHOOK)
        self.terminate_poller()
        self.set_allowed(allowed_updates)
        if offset:
            self.confirm(offset)
        limit = min(max(limit, 1), 100)
        me = _Poller()
        self._poller = me
        self._on_change()
        deadline = time.monotonic() + max(wait, 0.0)
        try:
            while True:
                if me.terminated:
                    raise ApiError(409, me.terminated)
                ready = self.pending[:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._closed:
                    now = time.monotonic()
                    for update in ready:
                        if update.delivered is None:
                            update.delivered = now
                    return [update.to_dict() for update in ready]
                me.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(me.wake.wait(), remaining)
        finally:
            if self._poller is me:
                self._poller = None
                self._on_change()
