"""The sandbox page: a Telegram-like chat in the browser and the small JSON API behind it.

``GET /sandbox`` is the page (static HTML, CSS and JavaScript from ``static/``). The page asks
``GET /sandbox/api/state`` for what one person sees in one chat, acts through the ``POST``
calls (as that person: type, tap; for everyone: move the clock, start over) and hears of every
change from ``GET /sandbox/api/changes`` (server-sent events). Documents the bot sent are
downloaded from ``/sandbox/files/<file id>``. Everything listens on loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from events.db.models import Person
from events.emulator import Message, MessageKind
from events.emulator.entities import Entity, to_html, utf16_slice
from events.emulator.state import Chat, UserRecord
from events.formatting import format_date, format_datetime, format_time, zone_abbreviation
from events.i18n import locale_for
from events.sandbox.cast import BOT_NAME, BY_KEY, CAST, GROUP_ID, GROUP_TITLE, Character
from events.sandbox.runner import FIXED_SETTINGS, LOOPBACK, NotRunning, Sandbox
from events.sandbox.words import words

STATIC = Path(__file__).parent / "static"
SANDBOX = web.AppKey("sandbox", Sandbox)

FORWARD = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
TAP_TIMEOUT = 10.0  # seconds the page waits for the bot to answer a tap
KEEPALIVE = 15.0  # seconds between signs of life on the stream of changes
STREAM_SECONDS = 300.0  # then the stream ends and the browser opens a new one
SHOWN = 200  # the latest messages of a chat the page shows
MAX_TEXT = 4096
DEFAULT_LOCALE = str(FIXED_SETTINGS["default_locale"])
DEFAULT_ZONE = str(FIXED_SETTINGS["default_timezone"])
COMMAND = "command:"  # the page's links that type a command, as Telegram's blue commands do


class Refused(Exception):
    """What the page asked cannot be done; ``word`` names the sentence the page shows."""

    def __init__(self, word: str, status: int = 400) -> None:
        super().__init__(word)
        self.word = word
        self.status = status


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except NotRunning:
        return web.json_response({"ready": False, "error": "preparing"}, status=503)
    except Refused as refused:
        return web.json_response({"error": refused.word}, status=refused.status)


def build_page(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[refusals])
    app[SANDBOX] = sandbox
    app.router.add_get("/", to_page)
    app.router.add_get("/sandbox", page)
    app.router.add_static("/sandbox/static", STATIC)
    app.router.add_get("/sandbox/api/state", state)
    app.router.add_get("/sandbox/api/changes", changes)
    app.router.add_post("/sandbox/api/send", send)
    app.router.add_post("/sandbox/api/tap", tap)
    app.router.add_post("/sandbox/api/forward", forward)
    app.router.add_post("/sandbox/api/reset", reset)
    app.router.add_get("/sandbox/files/{file_id}", download)
    return app


async def serve(sandbox: Sandbox, port: int) -> web.AppRunner:
    """The page on ``127.0.0.1:port`` (0: a free port; see ``runner.addresses``)."""
    runner = web.AppRunner(
        build_page(sandbox), access_log=None, handler_cancellation=True, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, LOOPBACK, port).start()
    except OSError:
        await runner.cleanup()
        raise
    return runner


# ----------------------------------------------------------------- reading a request


def _character(key: object) -> Character:
    character = BY_KEY.get(str(key))
    if character is None:
        raise Refused("failed")
    return character


def _chat(sandbox: Sandbox, character: Character, key: object) -> Chat:
    chat_id = {"bot": character.user_id, "group": GROUP_ID}.get(str(key))
    chat = sandbox.emulator.world.chats.get(chat_id or 0)
    if chat is None:
        raise Refused("failed")
    return chat


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON body of a POST. Only JSON is taken: a form another web site posts to this
    loopback address is refused (a browser sends JSON across sites only after asking)."""
    if request.content_type != "application/json":
        raise Refused("failed", status=415)
    try:
        body = await request.json()
    except ValueError:
        raise Refused("failed") from None
    if not isinstance(body, dict):
        raise Refused("failed")
    return body


# ----------------------------------------------------------------- what a person sees


async def _viewers(sandbox: Sandbox) -> dict[str, tuple[str, str]]:
    """Each person's language and time zone as the bot keeps them."""
    ids = [character.user_id for character in CAST]
    async with sandbox.app.sessions() as session:
        people = {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(ids)))}
    found = {}
    for character in CAST:
        person = people.get(character.user_id)
        locale = locale_for(
            person.locale if person else None, character.language_code, DEFAULT_LOCALE
        )
        found[character.key] = (locale, (person.timezone if person else None) or DEFAULT_ZONE)
    return found


def _links(text: str, entities: list[Entity]) -> list[Entity]:
    """Addresses and commands in a text become links the page can follow."""
    linked: list[Entity] = []
    for entity in entities:
        kind = entity["type"]
        if kind in {"url", "bot_command"}:
            target = utf16_slice(text, entity["offset"], entity["length"])
            url = target if kind == "url" else COMMAND + target
            linked.append({**entity, "type": "text_link", "url": url})
        else:
            linked.append(entity)
    return linked


def _service(message: Message, said: dict[str, str]) -> str | None:
    joined = message.service.get("new_chat_members")
    if not joined or message.sender is None:
        return None
    names = ", ".join(str(user.get("first_name", "")) for user in joined)
    if [user.get("id") for user in joined] == [message.sender.id]:
        return said["joined"].format(name=names)
    return said["added"].format(actor=message.sender.first_name, names=names)


def _message(
    message: Message, viewer: UserRecord, locale: str, zone: str, said: dict[str, str]
) -> dict[str, Any] | None:
    sent = datetime.fromtimestamp(message.date, UTC)
    shown: dict[str, Any] = {
        "id": message.message_id,
        "time": format_time(sent, zone, locale),
        "day": format_date(sent, zone, locale),
    }
    if message.kind is MessageKind.SERVICE:
        text = _service(message, said)
        return {**shown, "service": text} if text else None
    if message.sender_chat is not None:
        sender = message.sender_chat.title or ""
    else:
        sender = message.sender.first_name if message.sender else ""
    reply = message.reply_to
    document = message.document
    return {
        **shown,
        "mine": message.sender is viewer,
        "bot": message.from_bot,
        "sender": sender,
        "html": to_html(message.text, _links(message.text, message.entities)),
        "edited": message.edit_date is not None,
        "buttons": [
            [{"text": button.text, "url": button.url} for button in row] for row in message.buttons
        ],
        "document": (
            {"name": document.file_name, "url": f"/sandbox/files/{document.file_id}"}
            if document is not None
            else None
        ),
        "reply": (
            {"sender": reply.sender.first_name if reply.sender else "", "text": reply.text[:80]}
            if reply is not None
            else None
        ),
    }


async def state(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    if not sandbox.ready:
        return web.json_response(
            {"ready": False, "version": sandbox.version, "words": words(DEFAULT_LOCALE)}
        )
    character = _character(request.query.get("person", CAST[0].key))
    chat_key = request.query.get("chat", "bot")
    chat = _chat(sandbox, character, chat_key)
    emulator = sandbox.emulator
    viewers = await _viewers(sandbox)
    locale, zone = viewers[character.key]
    said = words(locale)
    now = sandbox.clock.now()
    viewer = emulator.world.users[character.user_id]
    chats = {"bot": (BOT_NAME, said["bot_chat"]), "group": (GROUP_TITLE, said["group_chat"])}
    messages = [_message(m, viewer, locale, zone, said) for m in chat.visible()[-SHOWN:]]
    return web.json_response(
        {
            "ready": True,
            "version": sandbox.version,
            "locale": locale,
            "words": said,
            "now": format_datetime(now, zone, locale),
            "bot_username": emulator.bot_username,
            "people": [
                {
                    "key": c.key,
                    "name": c.first_name,
                    "role": said["host" if c.host else "member"],
                    "language": viewers[c.key][0].upper(),
                    "zone": zone_abbreviation(viewers[c.key][1], now),
                }
                for c in CAST
            ],
            "chats": [
                {
                    "key": key,
                    "title": title,
                    "subtitle": subtitle,
                    "latest": _latest(_chat(sandbox, character, key)),
                }
                for key, (title, subtitle) in chats.items()
            ],
            "chat": chat_key,
            "messages": [shown for shown in messages if shown is not None],
        }
    )


def _latest(chat: Chat) -> int:
    visible = chat.visible()
    return visible[-1].message_id if visible else 0


# ----------------------------------------------------------------- acting


async def send(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    body = await _body(request)
    character = _character(body.get("person"))
    chat = _chat(sandbox, character, body.get("chat"))
    text = str(body.get("text") or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise Refused("failed")
    user = sandbox.emulator.world.users[character.user_id]
    try:
        message = sandbox.emulator.inject_message(user, chat, text)
    except (AssertionError, ValueError):
        raise Refused("failed") from None
    return web.json_response({"id": message.message_id})


async def tap(request: web.Request) -> web.Response:
    """Tap an inline button as the person; the bot's answer (a toast, an alert, a link)."""
    sandbox = request.app[SANDBOX]
    body = await _body(request)
    character = _character(body.get("person"))
    chat = _chat(sandbox, character, body.get("chat"))
    try:
        message = chat.messages[int(body["message"])]
        button = message.buttons[int(body["row"])][int(body["column"])]
    except (KeyError, IndexError, TypeError, ValueError):
        raise Refused("gone", status=404) from None
    if message.deleted or button.callback_data is None:
        raise Refused("gone", status=404)
    emulator = sandbox.emulator
    user = emulator.world.users[character.user_id]
    try:
        pressed = emulator.inject_tap(user, message, button.text, data=button.callback_data)
    except AssertionError:  # the button's text is no longer one of a kind on the message
        raise Refused("gone", status=404) from None
    with contextlib.suppress(AssertionError):  # no answer in time: the page says nothing
        await emulator.wait_until(lambda: pressed.answered, TAP_TIMEOUT)
    answer = pressed.answer
    return web.json_response(
        {
            "answer": (
                {"text": answer.text, "alert": answer.show_alert, "url": answer.url}
                if answer is not None
                else None
            )
        }
    )


async def forward(request: web.Request) -> web.Response:
    """Move the bot's clock an hour, a day, or to when the next waiting message falls due."""
    sandbox = request.app[SANDBOX]
    by = (await _body(request)).get("by")
    if by in FORWARD:
        await sandbox.forward(FORWARD[str(by)])
        return web.json_response({"moved": True})
    if by != "next":
        raise Refused("failed")
    due = await sandbox.next_due()
    if due is None:
        return web.json_response({"moved": False})
    await sandbox.forward(max(due - sandbox.clock.now(), timedelta(0)))
    return web.json_response({"moved": True})


async def reset(request: web.Request) -> web.Response:
    await _body(request)
    await request.app[SANDBOX].reset()
    return web.json_response({"ready": True})


# ----------------------------------------------------------------- reading


async def to_page(request: web.Request) -> web.Response:
    raise web.HTTPFound("/sandbox")


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def download(request: web.Request) -> web.Response:
    stored = request.app[SANDBOX].emulator.world.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    name = re.sub(r"[^A-Za-z0-9._-]", "_", stored.file_name) or "file"
    return web.Response(
        body=stored.content,
        content_type=stored.mime_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def changes(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the sandbox's version whenever it changes. The stream ends after
    a while; the browser's EventSource opens a new one by itself."""
    sandbox = request.app[SANDBOX]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_SECONDS
    sent: int | None = None
    with contextlib.suppress(ConnectionError):
        while loop.time() < ends:
            if sandbox.version != sent:
                sent = sandbox.version
                await response.write(f"data: {sent}\n\n".encode())
                continue
            await sandbox.changed(sent, KEEPALIVE)
            if sandbox.version == sent:
                await response.write(b": waiting\n\n")
    return response
