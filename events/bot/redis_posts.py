"""Group posts kept current by several processes: the edit gap of a post shared through Redis.

Every process may be asked to refresh a post (the taps go to whichever process handles them),
and together they must still edit it at most once per gap (CONTRACT §2: 3 s), and the last edit
after the taps stop must show the final counts. For each post Redis holds a hash
``{prefix}{event_id}``:

- ``wanted``: a version, raised by every request (after the change it announces is committed);
- ``done``: the version the last edit covers: the editor reads ``wanted`` before it reads the
  counts, so every change announced by then is in them;
- ``last``: when the last edit finished (Redis's clock);

and a lock ``{prefix}{event_id}:lock``, held by the one process editing.

A process that was asked keeps a task for the post until ``done`` reaches the version of its
own last request: it waits for the post's gap, takes the lock and edits (reading the counts
then), or sees that another process's edit already covered it. So the post is edited by one
process at a time, a gap apart, and no request is left without an edit after it. Requests that
this process had not yet seen covered when it stops are dropped, like the in-memory updater's.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.posts import EDIT_GAP, PostUpdater, edit_post
from events.delivery.limits import Limiter
from events.i18n import CatalogueI18n

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

PREFIX = "events:posts:"
KEEP = 3600.0  # seconds a post's versions are kept after its last request

# KEYS: the post's hash, its lock. ARGV: ask (1: count a new request), gap, token, lease (ms),
# keep (ms), the version the caller waits for, seconds between looks while another edits.
# Answers {"done", 0, version}, {"wait", seconds, version} or {"edit", wanted, version}.
_CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local mine = tonumber(ARGV[6])
if ARGV[1] == '1' then
  mine = redis.call('HINCRBY', KEYS[1], 'wanted', 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local done = tonumber(redis.call('HGET', KEYS[1], 'done')) or 0
if done >= mine then
  return {'done', '0', mine}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'wait', ARGV[7], mine}
end
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
local gap = tonumber(ARGV[2])
if last and now < last + gap then
  return {'wait', string.format('%.6f', last + gap - now), mine}
end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
local wanted = tonumber(redis.call('HGET', KEYS[1], 'wanted')) or 0
return {'edit', tostring(wanted), mine}
"""

# KEYS: the post's hash, its lock. ARGV: token, the version edited, edited (1/0), keep (ms).
_FINISH = """
if ARGV[3] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  redis.call('HSET', KEYS[1], 'last', string.format('%.6f', now))
  local done = tonumber(redis.call('HGET', KEYS[1], 'done')) or 0
  if tonumber(ARGV[2]) > done then
    redis.call('HSET', KEYS[1], 'done', ARGV[2])
  end
end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""


class RedisPostUpdater(PostUpdater):
    """The edits of every post spaced by ``gap`` across all processes sharing ``redis`` and
    ``prefix`` (one prefix per bot); each edit takes a turn of the (shared) limiter."""

    def __init__(
        self,
        *,
        redis: Redis,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        i18n: CatalogueI18n,
        limiter: Limiter,
        gap: float | None = None,
        prefix: str = PREFIX,
    ) -> None:
        self.redis = redis
        self.bot = bot
        self.sessions = sessions
        self.i18n = i18n
        self.limiter = limiter
        self.gap = gap if gap is not None else EDIT_GAP / limiter.limits.scale
        self.prefix = prefix
        # How often a waiting process looks whether another's edit is done, and how long an
        # editor may hold the lock (a group's turn may take a minute) before it counts as gone.
        self.look = max(self.gap / 4, 0.01)
        self.lease = limiter.limits.group_window + 60.0
        self._token = uuid.uuid4().hex
        self._asked: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stopped = False
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)

    def request(self, event_id: int) -> None:
        if self._stopped:
            return
        self._asked.add(event_id)
        if event_id not in self._tasks:
            self._tasks[event_id] = asyncio.create_task(
                self._run(event_id), name=f"post of event {event_id}"
            )

    async def stop(self) -> None:
        self._stopped = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def busy(self) -> bool:
        """Some request of this process is not covered by an edit yet."""
        return bool(self._tasks)

    async def _run(self, event_id: int) -> None:
        keys = [f"{self.prefix}{event_id}", f"{self.prefix}{event_id}:lock"]
        keep = round(KEEP * 1000)
        mine = 0
        try:
            while True:
                ask = event_id in self._asked
                self._asked.discard(event_id)
                outcome, value, mine = await self._claim(
                    keys=keys,
                    args=[
                        int(ask),
                        self.gap,
                        self._token,
                        round(self.lease * 1000),
                        keep,
                        mine,
                        self.look,
                    ],
                )
                if outcome == b"done":
                    if event_id in self._asked:
                        continue
                    return
                if outcome == b"wait":
                    await asyncio.sleep(float(value))
                    continue
                edited = False
                try:
                    edited = await edit_post(
                        self.bot, self.sessions, self.i18n, self.limiter, event_id
                    )
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("the post of event %s could not be refreshed", event_id)
                    edited = True
                finally:
                    await asyncio.shield(
                        self._finish(keys=keys, args=[self._token, value, int(edited), keep])
                    )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the post of event %s: Redis could not be asked", event_id)
        finally:
            self._tasks.pop(event_id, None)


def posts_prefix(bot_id: int) -> str:
    """The keys of one bot's posts."""
    return f"{PREFIX}{bot_id}:"
