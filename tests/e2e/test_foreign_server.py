"""`events run` against a Bot API server it has never seen: a bare one written here, which knows
only getMe, getUpdates, sendMessage, editMessageText and answerCallbackQuery and answers 404 to
everything else (the command menu, deleteWebhook). The bot must not need more to serve people.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.e2e.conftest import free_port

TOKEN = "4242:bare-server-token"


class BareBotApi:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self.changed = asyncio.Condition()
        self.ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401}, status=401)
        params = dict(await request.post())
        method = request.match_info["method"]
        if method == "getMe":
            result: Any = {"id": 4242, "is_bot": True, "first_name": "Bare", "username": "bare_bot"}
        elif method == "getUpdates":
            result = await self.get_updates(int(params.get("offset", 0)), int(params["timeout"]))
        elif method in ("sendMessage", "editMessageText"):
            result = await self.record_message(method, params)
        elif method == "answerCallbackQuery":
            self.answers.append(params)
            result = True
        else:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.json_response({"ok": True, "result": result})

    async def get_updates(self, offset: int, wait: int) -> list[dict[str, Any]]:
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait_for(lambda: self.updates), wait)
        return self.updates

    async def record_message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        message = {
            "message_id": int(params.get("message_id", 0)) or next(self.ids),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private", "first_name": "Someone"},
            "text": params["text"],
        }
        self.sent.append({"method": method, "at": time.monotonic(), **params})
        async with self.changed:
            self.changed.notify_all()
        return message

    async def push(self, kind: str, payload: dict[str, Any]) -> float:
        async with self.changed:
            self.updates.append({"update_id": next(self.ids) + 1000, kind: payload})
            self.changed.notify_all()
        return time.monotonic()

    async def person_writes(self, user: dict[str, Any], text: str) -> float:
        return await self.push("message", {
            "message_id": next(self.ids), "date": int(time.time()), "from": user, "text": text,
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
        })  # fmt: skip

    async def next_sent(self, count: int) -> dict[str, Any]:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: len(self.sent) >= count), 10)
        return self.sent[count - 1]


@pytest.fixture
async def bare() -> AsyncIterator[tuple[BareBotApi, str]]:
    api = BareBotApi()
    runner = web.AppRunner(api.app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield api, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_events_run_serves_people_through_a_bare_server(
    bare: tuple[BareBotApi, str], tmp_path: Path
) -> None:
    api, url = bare
    http_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    env |= {
        "EVENTS_BOT_TOKEN": TOKEN,
        "EVENTS_TELEGRAM_API_URL": url,
        "EVENTS_HTTP_PORT": str(http_port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "events", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(300):  # bounded: up to 30 s for the process to come up
                try:
                    async with client.get(f"http://127.0.0.1:{http_port}/healthz") as health:
                        body = await health.json()
                        if body["updates"] == "receiving":
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            assert health.status == 200
            assert body["status"] == "ok"

        ayu = {"id": 501, "is_bot": False, "first_name": "Ayu", "language_code": "id"}
        tom = {"id": 502, "is_bot": False, "first_name": "Tom", "language_code": "en-US"}

        asked = await api.person_writes(ayu, "/start")
        greeting = await api.next_sent(1)
        assert greeting["text"].startswith("Halo, Ayu!")
        assert greeting["at"] - asked < 2.0

        await api.person_writes(tom, "/start")
        assert (await api.next_sent(2))["text"].startswith("Hi, Tom!")

        await api.person_writes(tom, "/help")
        assert (await api.next_sent(3))["text"].startswith("Here is what I can do:")

        await api.person_writes(ayu, "/language")
        question = await api.next_sent(4)
        keyboard = json.loads(question["reply_markup"])["inline_keyboard"]
        english = next(b for row in keyboard for b in row if b["text"] == "English")
        await api.push("callback_query", {
            "id": "tap-1", "from": ayu, "chat_instance": "1", "data": english["callback_data"],
            "message": {"message_id": 4, "date": int(time.time()), "text": question["text"],
                        "chat": {"id": 501, "type": "private", "first_name": "Ayu"}},
        })  # fmt: skip
        confirmation = await api.next_sent(5)
        assert confirmation["method"] == "editMessageText"
        assert confirmation["text"] == "Done. From now on I will speak with you in English."
        assert api.answers[0]["text"] == "Language: English"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()
    assert "Traceback" not in output.decode()
