"""The limits of :mod:`events.delivery.limits`, kept in Redis for several processes of one bot.

Every process asks the same keys, so three workers together still write at most
``EVENTS_SEND_RATE`` a second, one at a time to a chat, 20 a minute to a group, and a 429 seen
by one of them closes the chat and slows all of them down.

Each call is one Lua script, so checking and taking a turn is atomic across processes. Time is
Redis's own clock (``TIME`` inside the script): processes on different machines agree on it,
and it is real time, never the bot's movable clock. The rules are those of
:class:`~events.delivery.limits.InMemoryLimiter`, line for line:

- ``{prefix}overall``: a sorted set of the writes the overall rate counts: one in flight is
  scored ``BUSY_TTL`` ahead (so it counts however long it travels), one answered is scored
  with the time of its answer and counts for one window after it;
  ``{prefix}state``: a hash with the earliest next start (spreading writes ``1 / rate`` apart),
  the overall rate and the time of the last 429;
- ``{prefix}busy:{chat}``: writes to the chat in flight; ``{prefix}free:{chat}``: when a
  private chat may be written to again; ``{prefix}group:{chat}``: a sorted set of the group's
  writes in the last minute; ``{prefix}closed:{chat}``: until when a 429 closed the chat.

Every key expires once it no longer limits anything (``busy`` after ``BUSY_TTL``, in case a
process died in the middle of a write; ``state`` a day after the last write), so the keys follow
the active chats only.
"""

from __future__ import annotations

import itertools
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

from events.delivery.limits import GRANTED, ChatKind, Limiter, Permit, RateLimits

if TYPE_CHECKING:
    from redis.asyncio import Redis

PREFIX = "events:limits:"
BUSY_TTL = 120.0  # seconds a write may stay in flight before its chat is freed anyway
STATE_TTL = 86400.0  # seconds the rate and the spreading are kept without any write

# Shared by the scripts: the time now by Redis's clock, and the overall rate after recovery.
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function ms(seconds) return math.max(1, math.ceil(seconds * 1000)) end
local function s(x) return string.format('%.6f', x) end
local per_second = tonumber(ARGV[1])
local backoff = tonumber(ARGV[2])
local recovery = tonumber(ARGV[3])
local state_ttl = tonumber(ARGV[4])
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate')) or per_second
local last_429 = tonumber(redis.call('HGET', KEYS[1], 'last_429'))
if last_429 and rate < per_second and now - last_429 >= recovery then
  rate = math.min(per_second, rate / backoff)
  redis.call('HSET', KEYS[1], 'rate', s(rate), 'last_429', s(now))
  redis.call('PEXPIRE', KEYS[1], ms(state_ttl))
end
"""

# KEYS: state, overall, busy, free (private) or group, closed.
# ARGV: per_second, backoff, recovery, state_ttl, kind, window, private_gap, group_window,
#       group_per_minute, member, busy_ttl.
_ACQUIRE = (
    _PRELUDE
    + """
local kind, window = ARGV[5], tonumber(ARGV[6])
local private_gap, group_window = tonumber(ARGV[7]), tonumber(ARGV[8])
local group_per_minute = tonumber(ARGV[9])
local closed = tonumber(redis.call('GET', KEYS[5]))
if closed and now < closed then
  return {0, s(closed - now), 0, s(rate)}
end
if (tonumber(redis.call('GET', KEYS[3])) or 0) > 0 then
  return {0, s(private_gap), 0, s(rate)}
end
if kind == 'private' then
  local free = tonumber(redis.call('GET', KEYS[4]))
  if free and now < free then
    return {0, s(free - now), 0, s(rate)}
  end
else
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - group_window)
  if redis.call('ZCARD', KEYS[4]) >= group_per_minute then
    local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
    return {0, s(tonumber(first[2]) + group_window - now), 0, s(rate)}
  end
end
local busy_ttl = tonumber(ARGV[11])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZCARD', KEYS[2]) >= math.max(1, math.floor(rate)) then
  local first = tonumber(redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2])
  local wait = window / rate  -- all in flight: ask again soon
  if first <= now then
    wait = first + window - now
  end
  return {0, s(wait), 1, s(rate)}
end
local next_start = tonumber(redis.call('HGET', KEYS[1], 'next_start'))
if next_start and now < next_start then
  return {0, s(next_start - now), 1, s(rate)}
end
redis.call('ZADD', KEYS[2], now + busy_ttl, ARGV[10])
redis.call('PEXPIRE', KEYS[2], ms(busy_ttl + window) + 1000)
redis.call('HSET', KEYS[1], 'next_start', s(now + window / rate))
redis.call('PEXPIRE', KEYS[1], ms(state_ttl))
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ms(busy_ttl))
return {1, '0', 0, s(rate)}
"""
)

# KEYS: busy, free (private) or group, overall.
# ARGV: kind, private_gap, group_window, member, the counted write's member ('' if none).
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function ms(seconds) return math.max(1, math.ceil(seconds * 1000)) end
local function s(x) return string.format('%.6f', x) end
if redis.call('DECR', KEYS[1]) <= 0 then
  redis.call('DEL', KEYS[1])
end
if ARGV[1] == 'private' then
  local gap = tonumber(ARGV[2])
  redis.call('SET', KEYS[2], s(now + gap), 'PX', ms(gap) + 1000)
else
  local group_window = tonumber(ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - group_window)
  redis.call('ZADD', KEYS[2], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ms(group_window) + 1000)
end
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[3], 'XX', now, ARGV[5])
end
return 1
"""

# KEYS: state, overall, busy. ARGV: per_second, backoff, recovery, state_ttl, send, window,
# member, busy_ttl.
_BEGIN = (
    _PRELUDE
    + """
local busy_ttl = tonumber(ARGV[8])
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ms(busy_ttl))
if ARGV[5] == '1' then
  local window = tonumber(ARGV[6])
  redis.call('ZADD', KEYS[2], now + busy_ttl, ARGV[7])
  redis.call('PEXPIRE', KEYS[2], ms(busy_ttl + window) + 1000)
  local next_start = tonumber(redis.call('HGET', KEYS[1], 'next_start')) or now
  redis.call('HSET', KEYS[1], 'next_start', s(math.max(next_start, now + window / rate)))
  redis.call('PEXPIRE', KEYS[1], ms(state_ttl))
end
return s(rate)
"""
)

# KEYS: state, closed. ARGV: per_second, backoff, recovery, state_ttl, seconds, floor.
_RETRY_AFTER = (
    _PRELUDE
    + """
local seconds = math.max(tonumber(ARGV[5]), 0)
local until_ = now + seconds
local closed = tonumber(redis.call('GET', KEYS[2]))
if closed and closed > until_ then
  until_ = closed
end
redis.call('SET', KEYS[2], s(until_), 'PX', ms(until_ - now) + 1000)
rate = math.max(per_second * tonumber(ARGV[6]), rate * backoff, 1)
rate = math.min(rate, per_second)
redis.call('HSET', KEYS[1], 'rate', s(rate), 'last_429', s(now))
redis.call('PEXPIRE', KEYS[1], ms(state_ttl))
return s(rate)
"""
)


class RedisLimiter(Limiter):
    """The limits shared by every process using the same Redis and ``prefix`` (one per bot)."""

    def __init__(
        self, redis: Redis, limits: RateLimits | None = None, *, prefix: str = PREFIX
    ) -> None:
        self.limits = limits or RateLimits()
        self.redis = redis
        self.prefix = prefix
        self._rate = self.limits.per_second  # the last rate Redis told (per scaled window)
        self._id = uuid.uuid4().hex[:12]
        self._serial = itertools.count()
        self._counted: dict[int, deque[str]] = {}  # members of this process's writes in flight
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._begin = redis.register_script(_BEGIN)
        self._retry_after = redis.register_script(_RETRY_AFTER)

    def rate(self) -> float:
        """The overall rate as last seen (every call of the other methods refreshes it)."""
        return self._rate * self.limits.scale

    async def acquire(self, chat_id: int, kind: ChatKind) -> Permit:
        limits = self.limits
        answer = await self._acquire(
            keys=[
                self._key("state"),
                self._key("overall"),
                self._key("busy", chat_id),
                self._chat_key(chat_id, kind),
                self._key("closed", chat_id),
            ],
            args=[
                *self._common(),
                kind.value,
                limits.window,
                limits.private_gap,
                limits.group_window,
                limits.group_per_minute,
                member := self._member(),
                BUSY_TTL,
            ],
        )
        granted, wait, overall, rate = answer
        self._rate = float(rate)
        if int(granted):
            self._counted.setdefault(chat_id, deque()).append(member)
            return GRANTED
        return Permit(False, max(float(wait), 0.0), overall=bool(int(overall)))

    async def release(self, chat_id: int, kind: ChatKind, *, counted: bool = True) -> None:
        limits = self.limits
        written = ""
        members = self._counted.get(chat_id)
        if counted and members:
            written = members.popleft()
            if not members:
                del self._counted[chat_id]
        await self._release(
            keys=[
                self._key("busy", chat_id),
                self._chat_key(chat_id, kind),
                self._key("overall"),
            ],
            args=[kind.value, limits.private_gap, limits.group_window, self._member(), written],
        )

    async def begin(self, chat_id: int, kind: ChatKind, *, send: bool) -> None:
        limits = self.limits
        rate = await self._begin(
            keys=[self._key("state"), self._key("overall"), self._key("busy", chat_id)],
            args=[
                *self._common(),
                "1" if send else "0",
                limits.window,
                member := self._member(),
                BUSY_TTL,
            ],
        )
        self._rate = float(rate)
        if send:
            self._counted.setdefault(chat_id, deque()).append(member)

    async def retry_after(self, chat_id: int, seconds: float) -> None:
        rate = await self._retry_after(
            keys=[self._key("state"), self._key("closed", chat_id)],
            args=[*self._common(), seconds, self.limits.floor],
        )
        self._rate = float(rate)

    def _common(self) -> list[Any]:
        limits = self.limits
        return [limits.per_second, limits.backoff, limits.recovery, STATE_TTL]

    def _key(self, name: str, chat_id: int | None = None) -> str:
        return f"{self.prefix}{name}" if chat_id is None else f"{self.prefix}{name}:{chat_id}"

    def _chat_key(self, chat_id: int, kind: ChatKind) -> str:
        return self._key("free" if kind is ChatKind.PRIVATE else "group", chat_id)

    def _member(self) -> str:
        """A member of a sorted set of write times, unique across processes."""
        return f"{self._id}:{next(self._serial)}"


def limits_prefix(bot_id: int) -> str:
    """The keys of one bot's limits: Telegram counts them per bot."""
    return f"{PREFIX}{bot_id}:"
