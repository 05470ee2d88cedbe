"""Start-up with a large database against an empty one: `events run` to its first getUpdates.

    python -m bench.startup [events]

``events`` upcoming events (1,000 by default 10,000) with 20 people going to each (200,000
RSVPs) and two pending reminders per answer (400,000) are written straight into a migrated
SQLite file with ``INSERT … SELECT`` over recursive CTEs (valid rows: every constraint of the
schema holds). The bot runs as `events run` does, in a child process, against the Bot API
emulator in this one. Imports are excluded: the child imports the CLI, the app, the migrations
and the SQLite driver, then prints the monotonic clock (system-wide on Linux) and calls
``events.cli.main(["run"])``; the time counted runs from that line to the moment the emulator
holds the child's first getUpdates. The peak resident memory (``VmHWM``) is read from
``/proc/<pid>/status`` right then. Best of two runs each, alternating.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bench.common import TOKEN, NotDone, Row, check
from events.db.migrate import upgrade_to_head
from events.emulator import BotAPIEmulator

ROOT = str(Path(__file__).resolve().parent.parent)  # the checkout, first on the child's path
PEOPLE_PER_EVENT = 20
REMINDERS = (86400, 3600)
CHILD = (
    "import sys, time\n"
    "import events.cli, events.app, events.db.migrate, alembic.command\n"
    "import sqlalchemy.dialects.sqlite.aiosqlite\n"
    "print('imported', time.monotonic(), flush=True)\n"
    "sys.exit(events.cli.main(['run']))\n"
)

SEED = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :people)
INSERT INTO people (id, first_name, language_code, can_message, remind_maybe, created_at,
                    updated_at)
SELECT i, 'Anggota ' || i, 'id', 1, 0, :now, :now FROM n;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :events)
INSERT INTO events (id, community_id, kind, title, description, timezone, starts_at, ends_at,
                    place, join_link, status, revision, announcement_chat_id,
                    announcement_message_id, created_at, updated_at)
SELECT i, :community, 'webinar', 'Lingkar Dukungan ' || i, 'Sesi berbagi yang aman.',
       'Asia/Jakarta',
       strftime('%Y-%m-%d %H:%M:%S', :now, '+2 days', '+' || i || ' hours') || '.000000',
       strftime('%Y-%m-%d %H:%M:%S', :now, '+2 days', '+' || (i + 1) || ' hours') || '.000000',
       'online', 'https://meet.example.org/lingkar', 'published', 1, :community, i, :now, :now
FROM n;

WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < :per_event - 1)
INSERT INTO rsvps (event_id, person_id, status, position, generation, created_at, updated_at)
SELECT e.id, ((e.id * :per_event + k.j) % :people) + 1, 'going', k.j + 1, 0, :now, :now
FROM events AS e CROSS JOIN k;

INSERT INTO deliveries (person_id, key, status, due_at, expires_at, attempts, created_at,
                        updated_at)
SELECT r.person_id, 'reminder:' || r.event_id || ':' || o.seconds, 'pending',
       strftime('%Y-%m-%d %H:%M:%S', e.starts_at, '-' || o.seconds || ' seconds') || '.000000',
       e.starts_at, 0, :now, :now
FROM rsvps AS r JOIN events AS e ON e.id = r.event_id
CROSS JOIN (SELECT 86400 AS seconds UNION ALL SELECT 3600) AS o;
"""


def seed(path: Path, events: int) -> dict[str, int]:
    """Write the rows; their counts, as the database reports them."""
    people = events * PEOPLE_PER_EVENT // 10
    community = -1001234567890
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    values = {
        "people": people,
        "events": events,
        "per_event": PEOPLE_PER_EVENT,
        "community": community,
        "now": now,
    }
    connection = sqlite3.connect(path)
    try:
        connection.execute(
            "INSERT INTO communities (id, title, chat_type, is_forum, locale, timezone, active,"
            " reminders, created_at, updated_at) VALUES (?, 'Lingkar Tenang', 'supergroup', 0,"
            " 'id', 'Asia/Jakarta', 1, '86400,3600', ?, ?)",
            (community, now, now),
        )
        for statement in SEED.split(";"):
            if statement.strip():
                used = {k: v for k, v in values.items() if f":{k}" in statement}
                connection.execute(statement, used)
        connection.commit()
        counted = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("events", "rsvps", "deliveries")
        }
        check(
            connection.execute("PRAGMA foreign_key_check").fetchall() == [],
            "the seeded rows break a foreign key",
        )
        check(
            connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
            "the seeded database is not intact",
        )
    finally:
        connection.close()
    expected = {
        "events": events,
        "rsvps": events * PEOPLE_PER_EVENT,
        "deliveries": events * PEOPLE_PER_EVENT * len(REMINDERS),
    }
    check(counted == expected, f"seeded {counted}, not {expected}")
    return counted


def peak_memory(pid: int) -> int:
    """VmHWM of the process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise NotDone("no VmHWM in /proc")


async def start_once(url: str) -> tuple[float, int]:
    """Seconds from the end of the imports to the first getUpdates; peak memory in kB."""
    async with BotAPIEmulator(TOKEN, bot_username="events_bench_bot") as emu:
        environment = dict(
            os.environ,
            EVENTS_BOT_TOKEN=TOKEN,
            EVENTS_DATABASE_URL=url,
            EVENTS_TELEGRAM_API_URL=emu.base_url,
            EVENTS_HTTP_HOST="127.0.0.1",
            EVENTS_HTTP_PORT="0",
            PYTHONPATH=ROOT,
        )
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=tempfile.gettempdir(),
        )
        try:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            words = line.decode().split()
            check(words[:1] == ["imported"], f"the child said {line!r}")
            imported = float(words[1])
            deadline = time.monotonic() + 300
            while not emu.polling:
                check(child.returncode is None, "the bot stopped before polling")
                check(time.monotonic() < deadline, "the bot did not poll within 300 s")
                await asyncio.sleep(0.002)
            polling = time.monotonic()
            memory = peak_memory(child.pid)
            check(emu.calls_to("getMe", ok=True), "the bot never asked getMe")
        finally:
            if child.returncode is None:
                child.terminate()
            _out, errors = await child.communicate()
        check(child.returncode == 0, f"the bot exited with {child.returncode}: {errors[-500:]!r}")
    return polling - imported, memory


async def measure(events: int, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.db"
        large = Path(folder) / "large.db"
        for path in (empty, large):
            await upgrade_to_head(f"sqlite+aiosqlite:///{path}")
        began = time.perf_counter()
        counted = seed(large, events)
        seeding = time.perf_counter() - began
        result: dict[str, float] = {"seeding": seeding, **counted}
        for _ in range(runs):
            for name, path in (("empty", empty), ("large", large)):
                seconds, memory = await start_once(f"sqlite+aiosqlite:///{path}")
                result[name] = min(result.get(name, seconds), seconds)
                result[f"{name}_kb"] = max(result.get(f"{name}_kb", 0), memory)
    return result


def rows(quick: bool = False) -> list[Row]:
    events = 1000 if quick else 10_000
    result = asyncio.run(measure(events, runs=1 if quick else 2))
    ratio = result["large"] / result["empty"]
    return [
        Row(
            name=f"start-up to first getUpdates ({events:,} events, {int(result['rsvps']):,} "
            f"RSVPs, {int(result['deliveries']):,} reminders)",
            baseline=f"empty database {result['empty'] * 1000:.0f} ms, "
            f"{result['empty_kb'] / 1024:.0f} MB",
            measured=f"{result['large'] * 1000:.0f} ms, {result['large_kb'] / 1024:.0f} MB peak",
            ratio=ratio,
            goal="≤ 5",
            met=ratio <= 5,
            note=f"imports excluded; peak RSS (VmHWM) at the first getUpdates; seeded in "
            f"{result['seeding']:.1f} s",
        )
    ]


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    result = asyncio.run(measure(events, runs=2))
    for key, value in result.items():
        print(f"{key:12} {value:,.3f}")


if __name__ == "__main__":
    main()
