"""`events sandbox` through the page's HTTP API, as the page uses it: the seed, typing and tapping
as someone, the clock moved forward until a reminder arrives, files and feeds, starting over, and
going on after a restart. (tests/test_sandbox_browser.py drives the page itself.)"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

from events.cli import main
from events.sandbox import Sandbox, serve
from events.sandbox.runner import world_path
from tests.e2e.conftest import free_port

T = TypeVar("T")
QA = "Tanya Jawab: Mengelola Rasa Cemas"
WORKSHOP = "Journaling for Calm: a hands-on workshop"


@dataclass
class Page:
    """The page's side of a running sandbox."""

    sandbox: Sandbox
    http: aiohttp.ClientSession
    runner: web.AppRunner

    async def state(self, person: str, chat: str = "bot") -> dict[str, Any]:
        async with self.http.get(
            "/sandbox/api/state", params={"person": person, "chat": chat}
        ) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        async with self.http.post(f"/sandbox/api/{path}", json=body) as response:
            assert response.status == status, await response.text()
            return await response.json()

    async def until(
        self,
        check: Callable[[], Awaitable[T | None]],
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> T:
        """Re-check at every change of the sandbox until ``check`` gives something."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            version = self.sandbox.version
            found = await check()
            if found:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"the page never showed it within {timeout} s")
            await self.sandbox.changed(version, remaining)

    async def message(
        self,
        person: str,
        chat: str,
        text: str,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The first message after id ``after`` with ``text`` in it, once it is shown."""

        async def shown() -> dict[str, Any] | None:
            messages = (await self.state(person, chat))["messages"]
            return next(
                (m for m in messages if m["id"] > after and text in (m.get("html") or "")), None
            )

        return await self.until(shown, timeout)

    async def tap(self, person: str, chat: str, message: dict[str, Any], label: str) -> Any:
        for row, buttons in enumerate(message["buttons"]):
            for column, button in enumerate(buttons):
                if button["text"] == label:
                    body = {"person": person, "chat": chat, "message": message["id"]}
                    answer = await self.post("tap", {**body, "row": row, "column": column})
                    return answer["answer"]
        raise AssertionError(f"no button {label!r} in {message['buttons']}")


async def open_page(database: Path, bot_port: int) -> tuple[Sandbox, web.AppRunner, str]:
    sandbox = Sandbox(database, bot_port=bot_port)
    runner = await serve(sandbox, 0)
    await sandbox.start()
    return sandbox, runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    sandbox, runner, url = await open_page(tmp_path / "sandbox.db", free_port())
    try:
        async with aiohttp.ClientSession(base_url=url) as http:
            yield Page(sandbox, http, runner)
    finally:
        await sandbox.stop()
        await runner.cleanup()


async def test_the_seed_is_a_community_with_two_upcoming_events(page: Page) -> None:
    ayu = await page.state("ayu", "group")
    assert ayu["ready"] is True
    assert [(p["name"], p["role"], p["language"], p["zone"]) for p in ayu["people"]] == [
        ("Ayu", "host", "ID", "WIB"),
        ("Dewi", "anggota", "ID", "WITA"),
        ("Sam", "anggota", "EN", "CET"),
    ]
    assert ayu["words"]["next"] == "Pengingat berikutnya"
    qa = await page.message("ayu", "group", QA)
    workshop = await page.message("ayu", "group", WORKSHOP)
    assert [b["text"] for b in qa["buttons"][0]] == ["Hadir", "Mungkin", "Tidak bisa"]
    assert "Online" in qa["html"]
    assert "Rumah Teduh" in workshop["html"]
    # Dewi said she is going to the Q&A and Sam to the workshop: the posts count them.
    await page.message("ayu", "group", "Hadir: 1 ·", after=qa["id"] - 1)
    await page.message("ayu", "group", "Hadir: 1 dari 12", after=workshop["id"] - 1)

    sam = await page.state("sam")
    assert sam["words"]["next"] == "Next reminder"
    assert sam["now"].endswith("CET")
    assert any("Europe/Amsterdam" in m["html"] for m in sam["messages"])
    dewi = await page.state("dewi")
    assert dewi["now"].endswith("WITA")


async def test_a_member_taps_going_and_the_post_counts_her(page: Page) -> None:
    workshop = await page.message("dewi", "group", WORKSHOP)
    answer = await page.tap("dewi", "group", workshop, "Hadir")
    assert answer["text"]  # the toast the bot answered with
    await page.message("dewi", "group", "Hadir: 2 dari 12", after=workshop["id"] - 1)

    mine = await page.post("send", {"person": "dewi", "chat": "bot", "text": "/my"})
    listed = await page.message("dewi", "bot", WORKSHOP, after=mine["id"])
    assert QA in listed["html"]


async def test_the_next_reminder_arrives_when_the_clock_gets_there(page: Page) -> None:
    due = await page.sandbox.next_due()
    assert due is not None
    assert await page.post("forward", {"by": "next"}) == {"moved": True}
    assert page.sandbox.clock.now() >= due
    reminder = await page.message("dewi", "bot", "⏰")
    assert f"{QA} dimulai besok" in reminder["html"]

    # The reminder's button brings the event's .ics file, downloadable from the page.
    answer = await page.tap("dewi", "bot", reminder, "Tambah ke kalender")
    assert answer is not None
    shown = await page.until(lambda: _document(page, "dewi", after=reminder["id"]), timeout=10.0)
    async with page.http.get(shown["url"]) as response:
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        assert (await response.read()).startswith(b"BEGIN:VCALENDAR")


async def _document(page: Page, person: str, after: int) -> dict[str, Any] | None:
    messages = (await page.state(person))["messages"]
    return next((m["document"] for m in messages if m["id"] > after and m["document"]), None)


async def test_an_hour_or_a_day_moves_the_bots_clock(page: Page) -> None:
    start = page.sandbox.clock.offset
    await page.post("forward", {"by": "hour"})
    await page.post("forward", {"by": "day"})
    assert page.sandbox.clock.offset - start == timedelta(hours=25)


async def test_with_nothing_to_send_the_clock_stays(page: Page) -> None:
    for person, title in (("dewi", QA), ("sam", WORKSHOP)):
        post = await page.message(person, "group", title)
        await page.tap(person, "group", post, "Tidak bisa")
    await page.until(lambda: _nothing_due(page))
    offset = page.sandbox.clock.offset
    assert await page.post("forward", {"by": "next"}) == {"moved": False}
    assert page.sandbox.clock.offset == offset


async def _nothing_due(page: Page) -> bool:
    return await page.sandbox.next_due() is None


async def test_the_calendar_feed_opens(page: Page) -> None:
    asked = await page.post("send", {"person": "dewi", "chat": "bot", "text": "/calendar"})
    answer = await page.message("dewi", "bot", "/feeds/", after=asked["id"])
    url = next(
        word for word in answer["html"].split('"') if word.startswith(page.sandbox.public_url)
    )
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert response.content_type == "text/calendar"
        assert "Mengelola Rasa Cemas" in await response.text()


async def test_what_the_page_cannot_do_is_refused_and_changes_nothing(page: Page) -> None:
    before = await page.state("dewi")
    async with page.http.post(
        "/sandbox/api/send", data={"person": "dewi", "chat": "bot", "text": "/help"}
    ) as response:
        assert response.status == 415  # a form another site could post
    assert (await page.post("send", {"person": "x", "chat": "bot", "text": "hi"}, 400)) == {
        "error": "failed"
    }
    gone = {"person": "dewi", "chat": "bot", "message": 999, "row": 0, "column": 0}
    assert await page.post("tap", gone, 404) == {"error": "gone"}
    assert await page.post("send", {"person": "dewi", "chat": "bot", "text": "  "}, 400)
    assert await page.post("forward", {"by": "week"}, 400)
    async with page.http.get("/sandbox/api/state", params={"person": "x"}) as response:
        assert response.status == 400
    assert (await page.state("dewi"))["messages"] == before["messages"]


async def test_starting_over_brings_back_the_seed_on_an_unmoved_clock(page: Page) -> None:
    said = await page.post("send", {"person": "dewi", "chat": "bot", "text": "Halo, bot!"})
    await page.post("forward", {"by": "day"})
    assert await page.post("reset", {}) == {"ready": True}

    assert page.sandbox.clock.offset == timedelta(0)
    dewi = await page.state("dewi")
    assert said["id"] > 0
    assert [m for m in dewi["messages"] if "Halo, bot!" in m.get("html", "")] == []
    await page.message("ayu", "group", QA)
    await page.message("ayu", "group", WORKSHOP)


async def test_a_restart_goes_on_where_the_sandbox_stopped(tmp_path: Path) -> None:
    database = tmp_path / "sandbox.db"
    sandbox, runner, _url = await open_page(database, free_port())
    await sandbox.forward(timedelta(hours=5))
    typed = await sandbox.emulator.person(700000102).send("/help")
    await sandbox.emulator.person(700000102).wait_for_message("/events")
    await sandbox.stop()
    await runner.cleanup()
    assert world_path(database).exists()

    again, runner, url = await open_page(database, free_port())
    try:
        assert again.clock.offset == timedelta(hours=5)
        async with aiohttp.ClientSession(base_url=url) as http:
            page = Page(again, http, runner)
            await page.message("dewi", "bot", "/events", after=typed.message_id)
            asked = await page.post("send", {"person": "dewi", "chat": "bot", "text": "/help"})
            await page.message("dewi", "bot", "/events", after=asked["id"])
    finally:
        await again.stop()
        await runner.cleanup()


def test_a_port_the_bot_cannot_follow_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--port", "65535"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "events: --port must be between 1 and 65534 (the bot takes the next)"
    ]


def test_events_sandbox_serves_the_page_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "events", "sandbox", "--port", str(port)],
        cwd=tmp_path,
        env={**clean, "EVENTS_BOT_TOKEN": "not-used"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.strip() == (
            f"events sandbox: open http://127.0.0.1:{port}/sandbox (Ctrl-C stops it)"
        )
        for line in process.stdout:  # ends with the process at the latest
            if "the sandbox is ready" in line:
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox", timeout=10) as response:
            assert "/sandbox/static/sandbox.js" in response.read().decode()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (tmp_path / "sandbox.db").exists()
    assert (tmp_path / "sandbox.world.json").exists()
