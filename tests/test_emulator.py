"""The Bot API emulator, driven through a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BufferedInputFile,
    CallbackQuery,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from aiogram.types import Message as TgMessage
from aiohttp import web

from events.emulator import (
    Blocked,
    BotAPIEmulator,
    Delay,
    Drop,
    HtmlParseError,
    Limits,
    Person,
    RetryAfter,
    ServerError,
    Status,
    ViolationKind,
    parse_html,
)

TOKEN = "123456:TEST-token"
BOT_USERNAME = "events_test_bot"


class FastSession(AiohttpSession):
    """aiogram's session without the 250 ms pause on close."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(emu: BotAPIEmulator, token: str = TOKEN) -> Bot:
    return Bot(token, session=FastSession(api=TelegramAPIServer.from_base(emu.base_url)))


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(TOKEN, bot_username=BOT_USERNAME) as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    client = make_bot(emu)
    yield client
    await client.session.close()


async def raw_call(
    emu: BotAPIEmulator,
    method: str,
    *,
    token: str = TOKEN,
    http: str = "POST",
    **kwargs: Any,
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(http, f"{emu.base_url}/bot{token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


async def started(emu: BotAPIEmulator, name: str, **kwargs: Any) -> Person:
    person = emu.user(name, **kwargs)
    await person.send("/start")
    return person


def spans(entities: list[MessageEntity] | None) -> list[tuple[str, int, int]]:
    return [(e.type, e.offset, e.length) for e in entities or []]


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=f"cb:{label}")] for label in labels
        ]
    )


# --------------------------------------------------------------------------- basics


async def test_get_me_and_wrong_token(emu: BotAPIEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot is True
    assert me.username == BOT_USERNAME
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False

    status, body = await raw_call(emu, "getMe", token="999:WRONG")
    assert status == 401
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    intruder = make_bot(emu, "999:WRONG")
    with pytest.raises(TelegramUnauthorizedError):
        await intruder.get_me()
    await intruder.session.close()


async def test_unknown_method_is_404_and_recorded(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    with pytest.raises(TelegramNotFound):
        await bot.send_chat_action(dewi.id, "typing")
    status, body = await raw_call(emu, "sendDice", data={"chat_id": dewi.id})
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert emu.unknown_methods == ["sendChatAction", "sendDice"]


async def test_parameters_from_query_json_and_forms(emu: BotAPIEmulator) -> None:
    dewi = await started(emu, "Dewi")
    markup = '{"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}'
    status, body = await raw_call(
        emu, "sendMessage", http="GET", params={"chat_id": dewi.id, "text": "query"}
    )
    assert (status, body["result"]["text"]) == (200, "query")
    status, body = await raw_call(
        emu,
        "sendMessage",
        json={"chat_id": dewi.id, "text": "json", "reply_markup": {"inline_keyboard": []}},
    )
    assert (status, body["result"]["text"]) == (200, "json")
    status, body = await raw_call(
        emu, "sendMessage", data={"chat_id": str(dewi.id), "text": "form", "reply_markup": markup}
    )
    assert body["result"]["reply_markup"] == {
        "inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]
    }
    form = aiohttp.FormData()
    form.add_field("chat_id", str(dewi.id))
    form.add_field("text", "multipart")
    status, body = await raw_call(emu, "sendMessage", data=form)
    assert (status, body["result"]["text"]) == (200, "multipart")
    assert [m.text for m in dewi.bot_messages] == ["query", "json", "form", "multipart"]
    assert emu.calls_to("sendMessage")[2].params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Go",
        "callback_data": "go",
    }


async def test_send_message_round_trip(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi", language_code="id")
    first = dewi.messages[-1]
    sent = await bot.send_message(
        dewi.id,
        "😀 <b>Halo &amp; selamat</b> <i>datang</i>, <a href='https://example.org/?a=1&amp;b=2'>"
        "tautan</a>",
        parse_mode="HTML",
        reply_markup=keyboard("Bahasa Indonesia", "English"),
        protect_content=True,
        reply_parameters=ReplyParameters(message_id=first.message_id),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert isinstance(sent, TgMessage)
    assert sent.text == "😀 Halo & selamat datang, tautan"
    assert sent.from_user is not None
    assert sent.from_user.id == emu.bot_id
    assert sent.chat.type == "private"
    assert sent.chat.first_name == "Dewi"
    assert sent.message_id == first.message_id + 1
    assert sent.has_protected_content is True
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "/start"
    assert spans(sent.entities) == [("bold", 3, 14), ("italic", 18, 6), ("text_link", 26, 6)]
    assert sent.entities is not None
    assert sent.entities[2].url == "https://example.org/?a=1&b=2"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[1][0].callback_data == "cb:English"

    seen = dewi.last_message
    assert seen is not None
    assert seen.text == "😀 Halo & selamat datang, tautan"
    assert seen.html.startswith("😀 <b>Halo &amp; selamat</b>")
    assert [[b.text for b in row] for row in seen.buttons] == [["Bahasa Indonesia"], ["English"]]
    assert seen.protect_content is True
    assert seen.edits == 0


async def test_entities_without_parse_mode_and_auto_detection(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    dewi = await started(emu, "Dewi")
    assert dewi.messages[0].entities == [{"type": "bot_command", "offset": 0, "length": 6}]
    sent = await bot.send_message(
        dewi.id,
        "  bold and /help  ",
        entities=[MessageEntity(type="bold", offset=2, length=4)],
    )
    assert sent.text == "bold and /help"
    assert spans(sent.entities) == [("bold", 0, 4), ("bot_command", 9, 5)]
    assert dewi.last_message is not None
    assert dewi.last_message.html == "<b>bold</b> and /help"


async def test_reply_keyboard_is_shown_and_removed(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    await bot.send_message(
        dewi.id,
        "Pick",
        reply_markup=ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="WIB"), KeyboardButton(text="WITA")]],
            resize_keyboard=True,
        ),
    )
    assert dewi.keyboard == [["WIB", "WITA"]]
    assert dewi.last_message is not None
    assert dewi.last_message.buttons == []
    chosen = await dewi.choose("WITA")
    assert chosen.text == "WITA"
    with pytest.raises(AssertionError, match="no key 'WIT'"):
        await dewi.choose("WIT")
    await bot.send_message(dewi.id, "Done", reply_markup=ReplyKeyboardRemove())
    assert dewi.keyboard is None


# --------------------------------------------------------------------------- long polling


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    dewi = emu.user("Dewi")
    begin = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await emu.wait_until(lambda: emu.polling)
    await dewi.send("hello")
    updates = await poll
    assert time.monotonic() - begin < 2
    assert len(updates) == 1
    assert updates[0].message is not None
    assert updates[0].message.text == "hello"
    assert updates[0].update_id == 1000


async def test_long_poll_times_out_empty(emu: BotAPIEmulator, bot: Bot) -> None:
    begin = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 <= time.monotonic() - begin < 2.5


async def test_offsets_confirm_updates(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = emu.user("Dewi")
    for text in ("one", "two", "three", "four"):
        await dewi.send(text)
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [1000, 1001, 1002, 1003]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == [1000, 1001]
    again = await bot.get_updates(offset=1002)
    assert [u.message.text for u in again if u.message] == ["three", "four"]
    assert [u.update_id for u in emu.pending_updates] == [1002, 1003]
    last = await bot.get_updates(offset=-1)
    assert [u.update_id for u in last] == [1003]
    assert await bot.get_updates(offset=1004) == []
    assert emu.pending_updates == []


async def test_allowed_updates_are_remembered(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    await bot.get_updates(offset=-1, allowed_updates=["message"])
    sent = await bot.send_message(dewi.id, "tap", reply_markup=keyboard("A"))
    assert sent.message_id
    await dewi.press(dewi.last_message, "A")  # type: ignore[arg-type]
    await dewi.send("text")
    assert [u.kind for u in emu.updates[-2:]] == ["callback_query", "message"]
    assert emu.updates[-2].queued is False
    got = await bot.get_updates(offset=emu.updates[0].update_id + 1)
    assert [u.message.text for u in got if u.message] == ["text"]
    await bot.get_updates(offset=-1, allowed_updates=[])
    await dewi.press(dewi.last_message, "A")  # type: ignore[arg-type]
    assert emu.updates[-1].queued is True


async def test_overlapping_get_updates_conflict(emu: BotAPIEmulator, bot: Bot) -> None:
    other = make_bot(emu)
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await emu.wait_until(lambda: emu.polling)
    second = asyncio.create_task(other.get_updates(timeout=10))
    with pytest.raises(TelegramConflictError) as caught:
        await first
    assert caught.value.message == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running"
    )
    await emu.user("Dewi").send("hi")
    assert len(await second) == 1
    await other.session.close()


async def test_webhook_blocks_polling_and_drops_pending(emu: BotAPIEmulator, bot: Bot) -> None:
    await emu.user("Dewi").send("before")
    assert await bot.set_webhook("https://example.org/hook", secret_token="s3cret_token")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/hook"
    assert info.pending_update_count == 1
    assert emu.world.webhook.secret_token == "s3cret_token"
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await bot.get_updates()
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == []


class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers as a test tells it to."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.hold: asyncio.Event | None = None  # when set, requests wait for it
        self.inside = 0
        self.most_inside = 0
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        self.arrived.set()
        try:
            if self.hold is not None:
                await self.hold.wait()
        finally:
            self.inside -= 1
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({}, status=status)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.hold is not None:
            self.hold.set()
        assert self._runner is not None
        await self._runner.cleanup()

    async def until_inside(self, count: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``count`` requests are being held at once."""
        async with asyncio.timeout(timeout):
            while self.inside < count:
                self.arrived.clear()
                await self.arrived.wait()

    def texts(self) -> list[str]:
        return [update["message"]["text"] for update, _ in self.received if "message" in update]


async def test_set_webhook_ends_a_waiting_get_updates(emu: BotAPIEmulator, bot: Bot) -> None:
    other = make_bot(emu)
    waiting = asyncio.create_task(bot.get_updates(timeout=10))
    await emu.wait_until(lambda: emu.polling)
    await other.set_webhook("https://example.org/hook")
    with pytest.raises(TelegramConflictError) as caught:
        await waiting
    assert caught.value.message == "Conflict: terminated by setWebhook request"
    await other.session.close()


async def test_updates_are_posted_to_the_webhook_with_the_secret(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    dewi = emu.user("Dewi")
    await dewi.send("before the webhook")
    async with Receiver() as receiver:
        assert await bot.set_webhook(receiver.url, secret_token="s3cret_token")
        await emu.wait_until(lambda: receiver.texts() == ["before the webhook"])
        await dewi.send("after")
        await emu.wait_until(lambda: receiver.texts() == ["before the webhook", "after"])
        assert {secret for _, secret in receiver.received} == {"s3cret_token"}
        await emu.quiet(0.1)
        assert emu.pending_updates == []
        assert [d.status for d in emu.webhook_deliveries] == [200, 200]
        assert all(d.body == b"{}" and d.method is None for d in emu.webhook_deliveries)
        assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_a_failed_delivery_is_retried_until_it_is_confirmed(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    async with Receiver() as receiver:
        receiver.statuses = [500, 401]
        await bot.set_webhook(receiver.url)
        await emu.user("Dewi").send("hello")
        await emu.wait_until(lambda: len(receiver.received) == 3)
        await emu.quiet(0.1)
        assert [d.status for d in emu.webhook_deliveries] == [500, 401, 200]
        assert [d.attempt for d in emu.webhook_deliveries] == [1, 2, 3]
        assert emu.pending_updates == []

    # Nobody listens any more: a connection error, retried with a growing pause.
    await emu.user("Sam").send("anyone?")
    await emu.wait_until(lambda: len(emu.webhook_deliveries) >= 6)
    failed = emu.webhook_deliveries[3:]
    assert all(d.status is None and d.error for d in failed)
    gaps = [b.started - a.started for a, b in itertools.pairwise(failed)]
    assert gaps[-1] > gaps[0]
    assert len(emu.pending_updates) == 1
    # Deleting the webhook stops the posts; the update waits for getUpdates.
    await bot.delete_webhook()
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "anyone?"


async def test_max_connections_bounds_deliveries_in_flight(emu: BotAPIEmulator, bot: Bot) -> None:
    async with Receiver() as receiver:
        receiver.hold = asyncio.Event()
        await bot.set_webhook(receiver.url, max_connections=2)
        dewi = emu.user("Dewi")
        for n in range(5):
            await dewi.send(f"message {n}")
        await receiver.until_inside(2)
        with pytest.raises(TimeoutError):
            await receiver.until_inside(3, timeout=0.2)  # a third would have arrived by now
        assert receiver.inside == 2
        receiver.hold.set()
        await emu.wait_until(lambda: len(receiver.received) == 5)
        assert receiver.most_inside == 2
        assert sorted(receiver.texts()) == [f"message {n}" for n in range(5)]


async def test_duplicate_delivery_and_a_lost_answer(emu: BotAPIEmulator, bot: Bot) -> None:
    async with Receiver() as receiver:
        await bot.set_webhook(receiver.url)
        emu.lose_webhook_answer()
        await emu.user("Dewi").send("once")
        await emu.wait_until(lambda: len(receiver.received) == 2)
        first, retry = emu.webhook_deliveries
        assert (first.status, first.lost, first.ok) == (200, True, False)
        assert (retry.status, retry.lost, retry.ok) == (200, False, True)
        (update,) = emu.updates
        again = await emu.deliver_again(update)
        assert again.duplicate
        assert again.ok
        assert receiver.texts() == ["once", "once", "once"]
        assert {u["update_id"] for u, _ in receiver.received} == {update.update_id}


async def test_a_method_in_a_webhook_answer_is_seen(emu: BotAPIEmulator, bot: Bot) -> None:
    async def answer_with_a_method(request: web.Request) -> web.Response:
        return web.json_response({"method": "sendMessage", "chat_id": 1, "text": "hi"})

    app = web.Application()
    app.router.add_post("/hook", answer_with_a_method)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        await emu.user("Dewi").send("hi")
        await emu.wait_until(lambda: emu.webhook_deliveries and emu.webhook_deliveries[0].status)
        assert emu.webhook_deliveries[0].method == "sendMessage"
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- commands


async def test_commands_per_scope_and_language(emu: BotAPIEmulator, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Mulai")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Start")], language_code="en"
    )
    await bot.set_my_commands(
        [BotCommand(command="events", description="Acara")], scope=BotCommandScopeAllGroupChats()
    )
    assert emu.commands() == [("start", "Mulai")]
    assert emu.commands(language_code="en") == [("start", "Start")]
    assert emu.commands("all_group_chats") == [("events", "Acara")]
    fetched = await bot.get_my_commands(language_code="en")
    assert [(c.command, c.description) for c in fetched] == [("start", "Start")]

    ana = emu.user("Ana", language_code="en")
    dewi = emu.user("Dewi", language_code="id")
    group = emu.group("Lingkar", members=[ana])
    assert emu.visible_commands(ana) == [("start", "Start")]
    assert emu.visible_commands(dewi) == [("start", "Mulai")]
    assert emu.visible_commands(ana, group) == [("events", "Acara")]

    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])
    assert await bot.delete_my_commands(language_code="en")
    assert emu.commands(language_code="en") == []


# --------------------------------------------------------------------------- edits, deletes, pins


async def test_edits_deletes_and_not_modified(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    sent = await bot.send_message(
        dewi.id, "<b>Hadir</b>: 1", parse_mode="HTML", reply_markup=keyboard("Hadir")
    )
    edited = await bot.edit_message_text(
        "<b>Hadir</b>: 2",
        chat_id=dewi.id,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard("Hadir"),
    )
    assert isinstance(edited, TgMessage)
    assert edited.text == "Hadir: 2"
    assert edited.edit_date is not None
    seen = dewi.last_message
    assert seen is not None
    assert seen.edits == 1
    assert seen.history == ["Hadir: 1"]

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            "<b>Hadir</b>: 2",
            chat_id=dewi.id,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("Hadir"),
        )
    assert caught.value.message == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=dewi.id, message_id=sent.message_id, reply_markup=keyboard("Hadir")
        )
    # Same text without reply_markup removes the keyboard: a real change.
    await bot.edit_message_text(
        "<b>Hadir</b>: 2", chat_id=dewi.id, message_id=sent.message_id, parse_mode="HTML"
    )
    assert seen.buttons == []
    await bot.edit_message_reply_markup(
        chat_id=dewi.id, message_id=sent.message_id, reply_markup=keyboard("Lagi")
    )
    assert seen.button_texts == ["Lagi"]

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=dewi.id, message_id=999)
    assert await bot.delete_message(dewi.id, sent.message_id)
    assert sent.message_id not in [m.message_id for m in dewi.messages]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(dewi.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("y", chat_id=dewi.id, message_id=sent.message_id)


async def test_pin_and_unpin(emu: BotAPIEmulator, bot: Bot) -> None:
    host = emu.user("Host")
    group = emu.group("Lingkar", creator=host)
    await emu.add_bot_to_group(group, by=host)
    post = await bot.send_message(group.chat_id, "Post")
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.pin_chat_message(group.chat_id, post.message_id)
    await emu.promote_bot(group, by=host)
    assert await bot.pin_chat_message(group.chat_id, post.message_id, disable_notification=True)
    assert [m.message_id for m in group.pinned] == [post.message_id]
    chat = await bot.get_chat(group.chat_id)
    assert chat.pinned_message is not None
    assert chat.pinned_message.text == "Post"
    assert await bot.unpin_chat_message(group.chat_id, message_id=post.message_id)
    assert group.pinned == []


# --------------------------------------------------------------------------- documents


async def test_send_document_get_file_and_download(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    sent = await bot.send_document(
        dewi.id,
        BufferedInputFile(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", filename="acara.ics"),
        caption="<b>Kalender</b>",
        parse_mode="HTML",
        protect_content=True,
    )
    assert sent.document is not None
    assert sent.document.file_name == "acara.ics"
    assert sent.document.mime_type == "text/calendar"
    assert sent.document.file_size == 32
    assert sent.caption == "Kalender"
    assert spans(sent.caption_entities) == [("bold", 0, 8)]
    seen = dewi.last_message
    assert seen is not None
    assert seen.document is not None
    assert seen.document.content.startswith(b"BEGIN:VCALENDAR")
    assert seen.text == "Kalender"
    assert seen.caption == "Kalender"

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None
    assert data.read() == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"

    again = await bot.send_document(dewi.id, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(dewi.id, "nonsense")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(dewi.id, sent.document.file_id, caption="x" * 1025)


# --------------------------------------------------------------------------- chats and members


async def test_chat_members_and_admins(emu: BotAPIEmulator, bot: Bot) -> None:
    host = emu.user("Host", username="host")
    admin = emu.user("Admin")
    dewi = emu.user("Dewi")
    stranger = emu.user("Stranger")
    group = emu.group("Lingkar Tenang", members=[dewi], admins=[admin], creator=host, forum=True)
    await emu.add_bot_to_group(group, by=host, admin=True)

    chat = await bot.get_chat(group.chat_id)
    assert isinstance(chat, ChatFullInfo)
    assert (chat.type, chat.title, chat.is_forum) == ("supergroup", "Lingkar Tenang", True)
    assert str(group.chat_id).startswith("-100")

    owner = await bot.get_chat_member(group.chat_id, host.id)
    assert isinstance(owner, ChatMemberOwner)
    admin_member = await bot.get_chat_member(group.chat_id, admin.id)
    assert isinstance(admin_member, ChatMemberAdministrator)
    assert admin_member.can_delete_messages is True
    assert admin_member.can_manage_topics is True
    assert isinstance(await bot.get_chat_member(group.chat_id, dewi.id), ChatMemberMember)
    assert isinstance(await bot.get_chat_member(group.chat_id, stranger.id), ChatMemberLeft)
    await emu.set_member_status(group, dewi, "kicked", by=admin)
    assert isinstance(await bot.get_chat_member(group.chat_id, dewi.id), ChatMemberBanned)
    assert emu.updates[-1].kind == "chat_member"
    assert emu.updates[-1].payload["new_chat_member"]["status"] == "kicked"

    admins = await bot.get_chat_administrators(group.chat_id)
    assert {m.user.id for m in admins} == {host.id, admin.id, emu.bot_id}
    assert isinstance(admins[0], ChatMemberOwner)
    assert await bot.get_chat_member_count(group.chat_id) == 3  # host, admin, bot

    assert await bot.leave_chat(group.chat_id)
    assert group.bot_status is Status.LEFT
    left = emu.updates[-1]
    assert left.kind == "my_chat_member"
    assert left.payload["old_chat_member"]["status"] == "administrator"
    assert left.payload["new_chat_member"]["status"] == "left"
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup"):
        await bot.send_message(group.chat_id, "hello?")


async def test_bot_added_and_removed_like_telegram(emu: BotAPIEmulator, bot: Bot) -> None:
    host = emu.user("Host")
    group = emu.group("Basic", creator=host, supergroup=False)
    await emu.add_bot_to_group(group, by=host)
    kinds = [(u.kind, u.payload.get("new_chat_members")) for u in emu.updates]
    assert kinds[0] == ("my_chat_member", None)
    assert kinds[1] == ("message", [emu.bot.to_dict()])
    updates = await bot.get_updates()
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "member"
    assert updates[1].message is not None
    assert updates[1].message.new_chat_members is not None

    await emu.remove_bot_from_group(group, by=host)
    assert emu.updates[-1].payload["new_chat_member"]["status"] == "kicked"
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(group.chat_id, "still here?")
    assert caught.value.message == "Forbidden: bot was kicked from the group chat"


async def test_migration_to_supergroup(emu: BotAPIEmulator, bot: Bot) -> None:
    host = emu.user("Host")
    group = emu.group("Basic", creator=host, supergroup=False)
    await emu.add_bot_to_group(group, by=host)
    bigger = await emu.migrate_to_supergroup(group, by=host)
    assert emu.updates[-2].payload["migrate_to_chat_id"] == bigger.chat_id
    assert emu.updates[-1].payload["migrate_from_chat_id"] == group.chat_id
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(group.chat_id, "old")
    assert caught.value.migrate_to_chat_id == bigger.chat_id
    sent = await bot.send_message(bigger.chat_id, "new")
    assert sent.chat.type == "supergroup"


# --------------------------------------------------------------------------- Telegram's refusals


async def test_button_data_limits(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    fits = "é" * 32  # 64 bytes
    await bot.send_message(dewi.id, "ok", reply_markup=keyboard_with(fits))
    for data in ("é" * 33, "x" * 65, ""):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(dewi.id, "no", reply_markup=keyboard_with(data))
        assert caught.value.message == "Bad Request: BUTTON_DATA_INVALID"
    assert [m.text for m in dewi.bot_messages] == ["ok"]


def keyboard_with(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="B", callback_data=data)]]
    )


async def test_text_length_counts_utf16_after_parsing(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    await bot.send_message(dewi.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(dewi.id, "😀" * 2048)
    for text in ("a" * 4097, "😀" * 2049):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(dewi.id, text)
        assert caught.value.message == "Bad Request: message is too long"
    for text in ("", "   \n ", "<b> </b>"):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(dewi.id, text, parse_mode="HTML")
        assert caught.value.message == "Bad Request: message text is empty"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("a <foo>b</foo>", 'Unsupported start tag "foo" at byte offset 2'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("é </b>", "Unexpected end tag at byte offset 3"),
        ("Q&A", 'Character "&" at byte offset 1 must be escaped as "&amp;"'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
async def test_bad_html_is_refused(emu: BotAPIEmulator, bot: Bot, html: str, reason: str) -> None:
    dewi = await started(emu, "Dewi")
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(dewi.id, html, parse_mode="HTML")
    assert caught.value.message == f"Bad Request: can't parse entities: {reason}"
    assert dewi.bot_messages == []


def test_html_parser_entities() -> None:
    parsed = parse_html(
        "<strong>B</strong><em>I</em><ins>U</ins><del>S</del><tg-spoiler>P</tg-spoiler>"
        '<code>c</code><pre><code class="language-python">x = 1</code></pre>'
        '<blockquote expandable>q</blockquote><tg-emoji emoji-id="5368324170671202286">👍'
        "</tg-emoji>&#128512;&#x41;&quot;&lt;&gt;"
    )
    assert parsed.text == 'BIUSPcx = 1q👍😀A"<>'
    assert parsed.entities == [
        {"offset": 0, "length": 1, "type": "bold"},
        {"offset": 1, "length": 1, "type": "italic"},
        {"offset": 2, "length": 1, "type": "underline"},
        {"offset": 3, "length": 1, "type": "strikethrough"},
        {"offset": 4, "length": 1, "type": "spoiler"},
        {"offset": 5, "length": 1, "type": "code"},
        {"offset": 6, "length": 5, "type": "pre", "language": "python"},
        {"offset": 11, "length": 1, "type": "expandable_blockquote"},
        {
            "offset": 12,
            "length": 2,
            "type": "custom_emoji",
            "custom_emoji_id": "5368324170671202286",
        },
    ]
    with pytest.raises(HtmlParseError, match='Unsupported start tag "br"'):
        parse_html("a<br>b")
    assert parse_html("Q&A", strict_ampersand=False).text == "Q&A"


async def test_private_chat_refusals(emu: BotAPIEmulator, bot: Bot) -> None:
    shy = emu.user("Shy")
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(shy.id, "hello")
    assert caught.value.message == "Forbidden: bot can't initiate conversation with a user"
    dewi = await started(emu, "Dewi")
    await dewi.block()
    assert emu.updates[-1].kind == "my_chat_member"
    assert emu.updates[-1].payload["new_chat_member"]["status"] == "kicked"
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(dewi.id, "hello")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    await dewi.send("/start")  # restarting unblocks
    assert not dewi.blocked
    assert (await bot.send_message(dewi.id, "welcome back")).text == "welcome back"
    with pytest.raises(TelegramBadRequest) as unknown:
        await bot.send_message(-100999, "anyone?")
    assert unknown.value.message == "Bad Request: chat not found"


async def test_callback_answers(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    await bot.send_message(dewi.id, "Pick", reply_markup=keyboard("Going", "Maybe"))
    post = dewi.last_message
    assert post is not None
    with pytest.raises(AssertionError, match=r"no button matches 'Nope'.*\['Going'\], \['Maybe'\]"):
        await dewi.press(post, "Nope")

    tap = await dewi.press(post, "Go")
    update = (await bot.get_updates())[-1]
    query = update.callback_query
    assert isinstance(query, CallbackQuery)
    assert query.id == tap.id
    assert query.data == "cb:Going"
    assert query.message is not None
    assert query.message.message_id == post.message_id
    assert query.chat_instance
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(tap.id, text="x" * 201)
    with pytest.raises(TelegramBadRequest, match="URL_INVALID"):
        await bot.answer_callback_query(tap.id, url="https://example.org/")
    url = f"https://t.me/{BOT_USERNAME}?start=ev_42-x"
    assert await bot.answer_callback_query(tap.id, text="x" * 200, url=url, show_alert=True)
    assert tap.answer is not None
    assert (tap.answer.url, tap.answer.show_alert) == (url, True)

    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.answer_callback_query(tap.id)
    assert caught.value.message == too_old
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.answer_callback_query("12345")
    assert caught.value.message == too_old
    emu.callback_ttl = 0.3
    late = await dewi.press(post, "Maybe")
    await asyncio.sleep(0.35)  # the scenario: the bot answers after the query expired
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.answer_callback_query(late.id)
    assert caught.value.message == too_old
    assert late.answer is None


# --------------------------------------------------------------------------- faults


async def test_fault_retry_after(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    emu.faults.add("sendMessage", error=RetryAfter(7), nth=2, chat_id=dewi.id)
    await bot.send_message(dewi.id, "one")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(dewi.id, "two")
    assert caught.value.retry_after == 7
    assert [m.text for m in dewi.bot_messages] == ["one"]
    failed = emu.calls_to("sendMessage", ok=False)[0]
    assert (failed.status, failed.description) == (429, "Too Many Requests: retry after 7")
    await bot.send_message(dewi.id, "three")
    kinds = [v.kind for v in emu.violations]
    assert ViolationKind.AFTER_RETRY_AFTER in kinds


async def test_fault_kinds(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    ana = await started(emu, "Ana")
    emu.faults.add("sendMessage", error=ServerError(), chat_id=ana.id)
    emu.faults.add("sendMessage", error=Blocked(), nth=2, chat_id=ana.id)
    emu.faults.add("deleteMessage", error=ServerError(503, "Service Unavailable"), every=True)
    await bot.send_message(dewi.id, "unaffected")
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(ana.id, "x")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ana.id, "y")
    assert not ana.blocked
    assert (await bot.send_message(ana.id, "z")).text == "z"
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.delete_message(dewi.id, 1)
    assert [m.text for m in ana.bot_messages] == ["z"]


async def test_fault_delay_and_drop(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    emu.faults.add("sendMessage", error=Delay(0.3))
    begin = time.monotonic()
    await bot.send_message(dewi.id, "late")
    assert time.monotonic() - begin >= 0.3
    emu.faults.add("sendMessage", error=Drop())
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(dewi.id, "lost")
    emu.faults.add("sendMessage", error=Drop(after=True))
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(dewi.id, "sent but unanswered")
    assert [m.text for m in dewi.bot_messages] == ["late", "sent but unanswered"]


# --------------------------------------------------------------------------- limits


async def test_private_chat_rate(bot: Bot, emu: BotAPIEmulator) -> None:
    emu.limits.scale = 10  # one message per 0.1 s, 0.02 s slack
    dewi = await started(emu, "Dewi")
    ana = await started(emu, "Ana")
    for text in ("1", "2", "3"):
        await bot.send_message(dewi.id, text)
    found = [v for v in emu.violations if v.kind is ViolationKind.PRIVATE_CHAT]
    assert len(found) == 2
    assert {v.chat_id for v in found} == {dewi.id}
    for text in ("1", "2", "3"):
        await bot.send_message(ana.id, text)
        await asyncio.sleep(0.1)  # the scenario: a well-paced sender
    assert [v for v in emu.violations if v.chat_id == ana.id] == []
    assert all(gap >= 0.08 for gap in emu.rates.private_gaps(ana.id))


async def test_overall_and_group_windows(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.limits.overall_per_second = 5
    emu.limits.group_per_minute = 3
    host = emu.user("Host")
    group = emu.group("Lingkar", creator=host)
    await emu.add_bot_to_group(group, by=host)
    people = [await started(emu, f"P{i}") for i in range(5)]
    for person in people:
        await bot.send_message(person.id, "hi")
    assert emu.violations == []
    post = await bot.send_message(group.chat_id, "post 1")
    assert [v.kind for v in emu.violations] == [ViolationKind.OVERALL]
    assert emu.max_overall_in_window() == 6
    assert emu.max_overall_in_window(0.000001) == 1
    await bot.edit_message_text("post 2", chat_id=group.chat_id, message_id=post.message_id)
    await bot.edit_message_text("post 3", chat_id=group.chat_id, message_id=post.message_id)
    assert [v.kind for v in emu.violations] == [ViolationKind.OVERALL]
    await bot.edit_message_text("post 4", chat_id=group.chat_id, message_id=post.message_id)
    assert emu.violations[-1].kind is ViolationKind.GROUP
    assert emu.violations[-1].chat_id == group.chat_id
    assert emu.max_group_writes_in_window(group.chat_id) == 4
    gaps = emu.edit_gaps(group.chat_id, post.message_id)
    assert len(gaps) == 2
    assert all(0 <= gap < 1 for gap in gaps)


async def test_enforced_limits_answer_429(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.limits.enforce = True
    dewi = await started(emu, "Dewi")
    await bot.send_message(dewi.id, "first")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(dewi.id, "too soon")
    assert caught.value.retry_after == 1
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(dewi.id, "ignoring retry_after")
    assert [v.kind for v in emu.violations] == [
        ViolationKind.PRIVATE_CHAT,
        ViolationKind.AFTER_RETRY_AFTER,
    ]
    assert all(v.rejected for v in emu.violations)
    assert [m.text for m in dewi.bot_messages] == ["first"]


def test_limits_scale_meaning() -> None:
    limits = Limits(scale=5)
    assert limits.overall_window == pytest.approx(0.2)
    assert limits.private_min_gap == pytest.approx(0.16)
    assert limits.group_window == pytest.approx(12.0)


# --------------------------------------------------------------------------- hooks and waits


async def test_on_call_hook_runs_at_the_exact_call(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    ana = await started(emu, "Ana")
    seen: list[int] = []

    async def block_ana(call: Any) -> None:
        seen.append(len(emu.calls_to("sendMessage")))
        await ana.block()

    hook = emu.on_call("sendMessage", block_ana, n=2, chat_id=dewi.id)
    await bot.send_message(ana.id, "a1")
    await bot.send_message(dewi.id, "d1")
    await bot.send_message(ana.id, "a2")
    await bot.send_message(dewi.id, "d2")
    assert hook.fired
    assert seen == [4]
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(ana.id, "a3")


async def test_wait_helpers(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    with pytest.raises(AssertionError, match="no bot message containing 'Halo'"):
        await dewi.wait_for_message(contains="Halo", timeout=0.1)

    async def reply_later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(dewi.id, "Halo Dewi")

    task = asyncio.create_task(reply_later())
    found = await dewi.wait_for_message(contains="Halo", timeout=2)
    assert found.text == "Halo Dewi"
    await task
    await emu.quiet(0.1, timeout=2, delivered=False)  # no bot is polling here
    assert emu.calls[-1].method == "sendMessage"
    with pytest.raises(AssertionError, match="never"):
        await emu.wait_until(lambda: False, timeout=0.05, message="never")


# --------------------------------------------------------------------------- a bot polling


def echo_router() -> Router:
    router = Router()

    @router.message(F.text)
    async def echo(message: TgMessage) -> None:
        await message.answer(
            f"Halo <b>{message.text}</b>",
            parse_mode="HTML",
            reply_markup=keyboard("Bahasa Indonesia", "English"),
        )

    @router.callback_query()
    async def chosen(query: CallbackQuery) -> None:
        await query.answer(f"chose {query.data}")
        if isinstance(query.message, TgMessage):
            await query.message.edit_text("English chosen")

    return router


@pytest.fixture
async def polling_bot(emu: BotAPIEmulator, bot: Bot) -> AsyncIterator[Bot]:
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=5)
    )
    await emu.wait_until(lambda: emu.polling)
    yield bot
    await dispatcher.stop_polling()
    await task


async def test_person_talks_to_a_polling_bot(emu: BotAPIEmulator, polling_bot: Bot) -> None:
    dewi = emu.user("Dewi", language_code="id")
    await dewi.send("/start")
    greeting = await dewi.wait_for_message(contains="Halo")
    assert greeting.text == "Halo /start"
    assert greeting.html == "Halo <b>/start</b>"
    answer = await dewi.tap(greeting, "English")
    assert answer.text == "chose cb:English"
    await dewi.wait_for_edit(greeting, "English chosen")
    assert greeting.edits == 1
    assert greeting.buttons == []
    assert [m.text for m in dewi.messages] == ["/start", "English chosen"]


async def test_group_privacy_and_anonymous_admins(emu: BotAPIEmulator, polling_bot: Bot) -> None:
    host = emu.user("Host")
    dewi = emu.user("Dewi")
    group = emu.group("Lingkar", members=[dewi], creator=host)
    await emu.add_bot_to_group(group, by=host)
    chatter = await dewi.send("just chatting", chat=group)
    other_bot = await dewi.send("/events@other_bot", chat=group)
    mine = await dewi.send(f"/events@{BOT_USERNAME}", chat=group)
    assert (chatter.delivered, other_bot.delivered, mine.delivered) == (False, False, True)
    reply = await dewi.wait_for_message(chat=group, contains="Halo")
    assert reply.text == f"Halo /events@{BOT_USERNAME}"

    anonymous = await group.send_as_anonymous_admin("/events")
    payload = emu.updates[-1].payload
    assert payload["sender_chat"]["id"] == group.chat_id
    assert payload["from"]["username"] == "GroupAnonymousBot"
    await group.wait_for_message(contains="Halo /events", after=anonymous)
    await emu.quiet(0.1)
    assert emu.violations == []


async def test_forum_topics(emu: BotAPIEmulator, bot: Bot) -> None:
    host = emu.user("Host")
    group = emu.group("Forum", creator=host, forum=True)
    await emu.add_bot_to_group(group, by=host, admin=True)
    thread = await group.create_topic("Acara", by=host)
    post = await bot.send_message(group.chat_id, "in topic", message_thread_id=thread)
    assert post.message_thread_id == thread
    assert post.is_topic_message is True
    assert post.reply_to_message is not None
    assert post.reply_to_message.forum_topic_created is not None
    general = await bot.send_message(group.chat_id, "general")
    assert general.message_thread_id is None
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group.chat_id, "nowhere", message_thread_id=999)
    said = await host.send("hello topic", chat=group, thread_id=thread)
    assert said.thread_id == thread
    assert said.reply_to is not None
    assert said.reply_to.message_id == thread


async def test_captions_private_chats_and_restricted_members(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi", last_name="Lestari", username="dewi")
    doc = await bot.send_document(dewi.id, BufferedInputFile(b"x", filename="a.txt"), caption="old")
    edited = await bot.edit_message_caption(
        chat_id=dewi.id, message_id=doc.message_id, caption="<i>new</i>", parse_mode="HTML"
    )
    assert isinstance(edited, TgMessage)
    assert edited.caption == "new"
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("t", chat_id=dewi.id, message_id=doc.message_id)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("t", chat_id=dewi.id, message_id=dewi.messages[0].message_id)

    private = await bot.get_chat(dewi.id)
    assert (private.type, private.first_name, private.username) == ("private", "Dewi", "dewi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(emu.user("Unknown").id)

    host = emu.user("Host")
    group = emu.group("Lingkar", members=[dewi], creator=host, supergroup=False)
    await emu.add_bot_to_group(group, by=host)
    await emu.set_member_status(group, dewi, "restricted")
    restricted = await bot.get_chat_member(group.chat_id, dewi.id)
    assert isinstance(restricted, ChatMemberRestricted)
    assert restricted.is_member is True
    assert restricted.can_send_messages is False

    mention = await bot.send_message(
        group.chat_id, f'<a href="tg://user?id={dewi.id}">Dewi</a>', parse_mode="HTML"
    )
    assert mention.entities is not None
    assert mention.entities[0].type == "text_mention"
    assert mention.entities[0].user is not None
    assert mention.entities[0].user.id == dewi.id
    said = await host.send("bukan perintah", chat=group)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(group.chat_id, said.message_id)
    await emu.promote_bot(group, by=host)
    assert await bot.delete_message(group.chat_id, said.message_id)
    assert said.deleted
    assert emu.internal_errors == []


async def test_restart_keeps_pending_updates(emu: BotAPIEmulator, bot: Bot) -> None:
    url = emu.base_url
    dewi = emu.user("Dewi")
    await emu.stop()
    await dewi.send("while the server was down")
    await emu.start()
    assert emu.base_url == url
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["while the server was down"]


async def test_url_buttons_and_replies(emu: BotAPIEmulator, bot: Bot) -> None:
    dewi = await started(emu, "Dewi")
    await bot.send_message(
        dewi.id,
        "Link",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Open", url="https://example.org/x")]]
        ),
    )
    post = dewi.last_message
    assert post is not None
    assert post.buttons[0][0].url == "https://example.org/x"
    with pytest.raises(AssertionError, match="not a callback button"):
        await dewi.press(post, "Open")
    with pytest.raises(TelegramBadRequest, match="BUTTON_URL_INVALID"):
        await bot.send_message(
            dewi.id,
            "bad",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Open", url="example")]]
            ),
        )
    reply = await dewi.reply_to(post, "thanks")
    assert reply.reply_to is post
    assert emu.updates[-1].payload["reply_to_message"]["message_id"] == post.message_id
