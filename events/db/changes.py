"""A count of this process's transactions that wrote to some tables, for caches that must not
outlive a change (the feeds, docs/feeds.md).

Every INSERT, UPDATE or DELETE on a watched table marks the connection it ran on, and so does
any other statement that may write and whose table is not known (textual SQL); when a marked
connection goes back to the pool, after its transaction committed or rolled back, the count goes
up. A reader that noted the count before it read, and finds the same count later, knows that no
commit of this process changed what it read since: a commit counts only once it is done, so a
read that began after the count went up sees it.

Commits of other processes are not seen: rely on it only where this process is the only writer
(SQLite, one worker: docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

_MARK = "events.changes"
# The first word of a statement that may write, when SQLAlchemy did not compile it as DML.
_WRITING = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "WITH", "TRUNCATE"})


class Changes:
    """How many transactions of this process wrote to ``tables`` (on ``engine``) so far."""

    def __init__(self, engine: AsyncEngine, tables: Collection[str]) -> None:
        self.count = 0
        self._tables = frozenset(tables)
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._executing)
        event.listen(sync_engine, "checkin", self._returned)

    def _writes_watched(self, statement: str, context: ExecutionContext | None) -> bool:
        compiled = getattr(getattr(context, "compiled", None), "statement", None)
        if context is not None and (context.isinsert or context.isupdate or context.isdelete):
            name = getattr(getattr(compiled, "table", None), "name", None)
            return name is None or name in self._tables
        if getattr(compiled, "is_select", False):
            return False
        words = statement.lstrip().split(None, 1)
        return bool(words) and words[0].upper() in _WRITING

    def _executing(
        self,
        connection: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        if self._writes_watched(statement, context):
            connection.info[_MARK] = True

    def _returned(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        if record.info.pop(_MARK, False):
            self.count += 1
