"""The Bot API emulator: an aiohttp server on 127.0.0.1 plus the people's side for tests."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from aiohttp import web

from .entities import Entity, detect_entities
from .errors import ApiError, too_many_requests
from .faults import Delay, Drop, Faults
from .limits import Limits, RateTracker, Violation
from .methods import WRITE_METHODS, BotMethods
from .params import read_params
from .people import Group, Person
from .polling import Update, UpdateQueue
from .snapshot import SnapshotError, dump_world, load_world
from .state import (
    ADMINS,
    DEFAULT_ADMIN_RIGHTS,
    ApiCall,
    Chat,
    Member,
    Message,
    MessageKind,
    Status,
    Tap,
    Topic,
    UserRecord,
    World,
)
from .webhook import WebhookDelivery, WebhookSender

log = logging.getLogger(__name__)

T = TypeVar("T")
CallCallback = Callable[[ApiCall], Any]


class _DropConnection(Exception):
    """Close the connection without an answer."""


@dataclass(eq=False)
class Hook:
    """``emu.on_call``: run ``callback`` after the ``n``-th matching successful call."""

    method: str
    callback: CallCallback
    n: int = 1
    chat_id: int | str | None = None
    seen: int = 0
    fired: bool = False
    error: BaseException | None = None

    def matches(self, call: ApiCall) -> bool:
        if self.fired or call.method.lower() != self.method.lower():
            return False
        return self.chat_id is None or str(self.chat_id) == str(call.chat_id)


class BotAPIEmulator:
    """Telegram's Bot API for one bot token, served on ``127.0.0.1`` at a free port.

    Point the bot at it with ``TelegramAPIServer.from_base(emu.base_url)``; act as people
    with :meth:`user` / :meth:`group` and the :class:`Person` / :class:`Group` handles.
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "events_test_bot",
        bot_name: str = "Events",
        limits: Limits | None = None,
        callback_ttl: float = 15.0,
        privacy_mode: bool = True,
        strict_html: bool = True,
        first_update_id: int = 1000,
        wall_clock: Callable[[], float] = time.time,
        port: int = 0,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like '<digits>:<secret>'")
        self.token = token
        self.bot_username = bot_username
        self.callback_ttl = callback_ttl
        self.privacy_mode = privacy_mode
        self.strict_html = strict_html
        self.limits = limits or Limits()
        self._change = asyncio.Event()
        self.world = World(
            UserRecord(int(bot_id), bot_name, username=bot_username, is_bot=True), wall_clock
        )
        self.queue = UpdateQueue(first_update_id, on_change=self._changed)
        self.rates = RateTracker(self.limits)
        self.faults = Faults()
        self.calls: list[ApiCall] = []
        self.unknown_methods: list[str] = []
        self.internal_errors: list[Exception] = []
        self.hooks: list[Hook] = []
        self._methods = BotMethods(self)
        self._canonical = {name.lower(): name for name in self._methods.handlers}
        self._people: dict[int, Person] = {}
        self._groups: dict[int, Group] = {}
        self._listeners: list[Callable[[], None]] = []
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._port = port
        self._runner: web.AppRunner | None = None
        self.webhooks = WebhookSender(self)

    # ----------------------------------------------------------------- lifecycle

    @property
    def bot(self) -> UserRecord:
        """The bot's own user."""
        return self.world.bot

    @property
    def bot_id(self) -> int:
        return self.world.bot.id

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; valid after :meth:`start`."""
        if self._runner is None:
            raise RuntimeError("the emulator is not started")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Start serving on 127.0.0.1 (a free port unless one was given; after a stop, the
        same port again)."""
        self.queue.reopen()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1]
        self._runner = runner

    async def stop(self) -> None:
        """Answer any waiting getUpdates, stop posting to the webhook and stop serving."""
        self.queue.close()
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- HTTP

    def _changed(self) -> None:
        self._change.set()
        self._change = asyncio.Event()
        for listener in list(self._listeners):
            listener()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` after every change (a call, an update, anything people do);
        returns the call that unsubscribes."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        arrival = time.monotonic()
        name = request.match_info["method"]
        method = self._canonical.get(name.lower(), name)
        counted = method != "getUpdates"
        if counted:
            self._inflight += 1
            self._last_activity = arrival
        call = ApiCall(method, {}, arrival)
        try:
            return await self._answer(request, name, call)
        finally:
            if counted:
                self._inflight -= 1
                self._last_activity = time.monotonic()
                self._changed()

    async def _answer(self, request: web.Request, name: str, call: ApiCall) -> web.StreamResponse:
        delay_after = 0.0
        drop_after = False
        try:
            params = await read_params(request)
            call.params = params.values
            call.chat_id = params.values.get("chat_id")
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.handlers.get(call.method)
            if handler is None:
                self.unknown_methods.append(name)
                log.error("the bot called an unknown Bot API method %r", name)
                raise ApiError(404, "Not Found")
            self._check_retry_after(call)
            fault = self.faults.take(call.method, call.chat_id)
            call.fault = fault
            if fault is not None:
                error = fault.error
                if isinstance(error, Drop):
                    if not error.after:
                        raise _DropConnection
                    drop_after = True
                elif isinstance(error, Delay):
                    if error.before:
                        await asyncio.sleep(error.seconds)
                    else:
                        delay_after = error.seconds
                else:
                    failure = error.api_error()
                    retry_after = (failure.parameters or {}).get("retry_after")
                    chat = self.world.chat_by_ref(call.chat_id) if call.chat_id else None
                    if retry_after and chat is not None:
                        self.rates.note_retry_after(chat.id, int(retry_after), time.monotonic())
                    raise failure
            result = await handler(params)
        except ApiError as error:
            call.status = error.status
            call.error_code = error.status
            call.description = error.description
            body: dict[str, Any] = error.payload()
        except _DropConnection:
            call.description = "connection dropped"
            self._drop(request, call)
        except Exception as error:
            log.exception("the emulator failed on %s", call.method)
            self.internal_errors.append(error)
            failure = ApiError(500, f"Internal Server Error: {type(error).__name__}: {error}")
            call.status = call.error_code = 500
            call.description = failure.description
            body = failure.payload()
        else:
            call.ok = True
            call.status = 200
            call.result = result
            body = {"ok": True, "result": result}
        call.finished = time.monotonic()
        self.calls.append(call)
        self._changed()
        if call.ok:
            await self._run_hooks(call)
        if delay_after:
            await asyncio.sleep(delay_after)
        if drop_after:
            self._drop(request, None)
        return web.json_response(body, status=call.status)

    def _drop(self, request: web.Request, call: ApiCall | None) -> NoReturn:
        if call is not None:
            call.finished = time.monotonic()
            self.calls.append(call)
            self._changed()
        if request.transport is not None:
            request.transport.close()
        raise asyncio.CancelledError

    def _check_retry_after(self, call: ApiCall) -> None:
        if call.method not in WRITE_METHODS or call.chat_id in (None, ""):
            return
        chat = self.world.chat_by_ref(call.chat_id)
        if chat is None:
            return
        remaining = self.rates.check_retry_after(chat.id, call.time)
        if remaining is not None and self.limits.enforce:
            raise too_many_requests(remaining)

    async def _run_hooks(self, call: ApiCall) -> None:
        for hook in list(self.hooks):
            if not hook.matches(call):
                continue
            hook.seen += 1
            if hook.seen < hook.n:
                continue
            hook.fired = True
            try:
                outcome = hook.callback(call)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as error:
                hook.error = error
                log.exception("on_call hook for %s failed", hook.method)
            self._changed()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self.world.file_paths.get(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.content, content_type=stored.mime_type)

    # ----------------------------------------------------------------- updates

    def push_update(self, kind: str, payload: dict[str, Any]) -> Update:
        """Create an update (queued if its type is allowed) and wake the long poll."""
        update = self.queue.push(kind, payload)
        self._last_activity = time.monotonic()
        if update.queued and self.world.webhook.url:
            self._deliver_webhook(update)
        self._changed()
        return update

    def _deliver_webhook(self, update: Update) -> None:
        """POST the update to ``world.webhook.url`` (with the secret token in
        ``X-Telegram-Bot-Api-Secret-Token``); it is confirmed on a 2xx answer, else retried."""
        self.webhooks.poke()

    def note_webhook(self, *, started: bool) -> None:
        """A webhook POST started or ended: it counts as activity, like a call."""
        self._inflight += 1 if started else -1
        self._last_activity = time.monotonic()
        self._changed()

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every POST to the webhook, in the order they started."""
        return self.webhooks.deliveries

    async def deliver_again(self, update: Update) -> WebhookDelivery:
        """Deliver ``update`` to the webhook once more (a duplicate delivery)."""
        return await self.webhooks.deliver_again(update)

    def lose_webhook_answer(self, update_id: int | None = None) -> None:
        """The bot's answer to the next delivery (of ``update_id``, or of any update) is lost
        after the bot handled it: the update is delivered again."""
        self.webhooks.lose_answer(update_id)

    @property
    def updates(self) -> list[Update]:
        """Every update ever created, in order (including ones the filter dropped)."""
        return self.queue.history

    @property
    def pending_updates(self) -> list[Update]:
        """Updates not yet confirmed by the bot."""
        return self.queue.pending

    @property
    def polling(self) -> bool:
        """A getUpdates call is waiting right now."""
        return self.queue.polling

    # ----------------------------------------------------------------- the world

    def snapshot(self) -> dict[str, Any]:
        """The world and the next update id as JSON-ready data, for :meth:`restore`."""
        return {"world": dump_world(self.world), "next_update_id": self.queue.next_id}

    def restore(self, data: dict[str, Any]) -> None:
        """Take the world of a :meth:`snapshot` (before :meth:`start`): its people and groups
        are this emulator's, the update ids go on after the saved ones. Raises SnapshotError
        for data that is not a snapshot."""
        if self._runner is not None:
            raise RuntimeError("restore a world before the emulator starts")
        world = load_world(data.get("world"), self.world.bot, self.world.wall_clock)
        next_update_id = data.get("next_update_id")
        if not isinstance(next_update_id, int):
            raise SnapshotError("a world snapshot without its next update id")
        self.world = world
        self.queue = UpdateQueue(next_update_id, on_change=self._changed)
        self._people = {
            chat.id: Person(self, chat.user)
            for chat in world.chats.values()
            if chat.is_private and chat.user is not None
        }
        self._groups = {
            chat.id: Group(self, chat) for chat in world.chats.values() if chat.is_group
        }

    def user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
        is_premium: bool = False,
    ) -> Person:
        """A new Telegram user (who has not started the bot yet)."""
        record = self.world.add_user(
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            user_id=user_id,
            is_premium=is_premium,
        )
        person = Person(self, record)
        self._people[record.id] = person
        return person

    def group(
        self,
        title: str,
        *,
        members: Iterable[Person] = (),
        admins: Iterable[Person] = (),
        creator: Person | None = None,
        anonymous_admins: Iterable[Person] = (),
        supergroup: bool = True,
        forum: bool = False,
        username: str | None = None,
        chat_id: int | None = None,
    ) -> Group:
        """A new group with these people in it; the bot is not in it yet."""
        chat = self.world.add_group(
            title, supergroup=supergroup, forum=forum, username=username, chat_id=chat_id
        )
        for person in members:
            chat.members[person.id] = Member(person.record, Status.MEMBER)
        for person in admins:
            chat.members[person.id] = Member(
                person.record, Status.ADMINISTRATOR, dict(DEFAULT_ADMIN_RIGHTS)
            )
        for person in anonymous_admins:
            chat.members[person.id] = Member(
                person.record, Status.ADMINISTRATOR, dict(DEFAULT_ADMIN_RIGHTS), is_anonymous=True
            )
        if creator is not None:
            chat.members[creator.id] = Member(creator.record, Status.CREATOR)
        group = Group(self, chat)
        self._groups[chat.id] = group
        self._changed()
        return group

    def chat(self, chat_id: int) -> Person | Group:
        """The person (private chat) or group with this chat id."""
        if chat_id in self._people:
            return self._people[chat_id]
        if chat_id in self._groups:
            return self._groups[chat_id]
        raise KeyError(f"no chat {chat_id}")

    def person(self, user_id: int) -> Person:
        return self._people[user_id]

    def message(self, chat_id: int, message_id: int) -> Message | None:
        """A message by chat and id (deleted ones included, with ``deleted=True``)."""
        chat = self.world.chats.get(chat_id)
        return chat.messages.get(message_id) if chat else None

    @property
    def taps(self) -> dict[str, Tap]:
        """Every callback query by id."""
        return self.world.taps

    def file_bytes(self, file_id: str) -> bytes:
        return self.world.files[file_id].content

    # ----------------------------------------------------------------- people's actions

    def _bot_receives(self, message: Message) -> bool:
        chat = message.chat
        if chat.is_private:
            return True
        bot = chat.member(self.world.bot)
        if not bot.present:
            return False
        if not self.privacy_mode or bot.status in ADMINS:
            return True
        if message.kind is MessageKind.SERVICE:
            return True
        for entity in message.entities:
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                command = message.text[: entity["length"]]
                target = command.partition("@")[2]
                return not target or target.lower() == self.bot_username.lower()
        return message.reply_to is not None and message.reply_to.from_bot

    def _deliver(self, kind: str, message: Message) -> None:
        message.delivered = self._bot_receives(message)
        if message.delivered:
            if message.sender is not None:
                message.sender.known_to_bot = True
            self.push_update(kind, message.to_dict())
        else:
            self._changed()

    def _unblock_now(self, user: UserRecord) -> None:
        if user.blocked:
            user.blocked = False
            chat = self.world.chats[user.id]
            self._my_chat_member(
                chat, user, Member(self.bot, Status.KICKED), Member(self.bot, Status.MEMBER)
            )

    def inject_message(
        self,
        user: UserRecord,
        chat: Chat,
        text: str,
        *,
        reply_to: Message | None = None,
        thread_id: int | None = None,
        entities: list[Entity] | None = None,
        anonymous: bool = False,
    ) -> Message:
        """A person (or, with ``anonymous``, the group itself) writes ``text`` in ``chat``."""
        if not text.strip():
            raise ValueError("Telegram does not send empty messages")
        if chat.is_private:
            self._unblock_now(user)
            user.started = True
        elif not anonymous and not chat.member(user).present:
            raise AssertionError(f"{user.full_name} is not a member of {chat.title!r}")
        elif chat.migrated_to is not None:
            raise AssertionError(f"{chat.title!r} was upgraded to {chat.migrated_to}")
        topic: Topic | None = None
        if reply_to is not None and reply_to.is_topic_message:
            thread_id = reply_to.thread_id
        if thread_id is not None and thread_id != 1:
            if not chat.is_forum or thread_id not in chat.topics:
                raise AssertionError(f"no topic {thread_id} in {chat.title!r}")
            topic = chat.topics[thread_id]
        message = self.world.add_message(
            chat,
            self.world.anonymous_admin if anonymous else user,
            text=text,
            entities=entities if entities is not None else detect_entities(text),
            sender_chat=chat if anonymous else None,
            reply_to=reply_to if reply_to is not None else (topic.opening if topic else None),
            thread_id=topic.thread_id if topic else None,
            is_topic_message=topic is not None,
        )
        self._deliver("message", message)
        return message

    def inject_document(
        self, user: UserRecord, chat: Chat, name: str, content: bytes, caption: str = ""
    ) -> Message:
        """A person sends a file (with an optional caption) in their private chat with the bot."""
        if not chat.is_private:
            raise AssertionError("files are only sent to the bot in private here")
        self._unblock_now(user)
        user.started = True
        message = self.world.add_message(
            chat,
            user,
            kind=MessageKind.DOCUMENT,
            document=self.world.store_file(name, content),
            text=caption,
            entities=detect_entities(caption) if caption else [],
        )
        self._deliver("message", message)
        return message

    def inject_edit(self, user: UserRecord, message: Message, text: str) -> Message:
        """A person edits their own message: an ``edited_message`` update."""
        if message.sender is not user:
            raise AssertionError("people can only edit their own messages")
        message.history.append(message.text)
        message.text = text
        message.entities = detect_entities(text)
        message.edit_date = self.world.now()
        message.edits += 1
        self._deliver("edited_message", message)
        return message

    def inject_tap(
        self, user: UserRecord, message: Message, label: str, *, data: str | None = None
    ) -> Tap:
        """A person taps the inline button labelled ``label``: a ``callback_query`` update.

        ``data`` replaces the button's callback data: a forged or replayed tap, as a modified
        client could send.
        """
        if message.deleted:
            raise AssertionError(f"message {message.message_id} was deleted")
        button = message.find_button(label)
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} is not a callback button ({button})")
        tap = self.world.new_tap(user, message, button.callback_data if data is None else data)
        user.known_to_bot = True
        payload = {
            "id": tap.id,
            "from": user.to_dict(),
            "message": message.to_dict(),
            "chat_instance": message.chat.chat_instance(),
            "data": tap.data,
        }
        self.push_update("callback_query", payload)
        return tap

    def _service(self, chat: Chat, actor: UserRecord, **service: Any) -> Message:
        message = self.world.add_message(
            chat, actor, kind=MessageKind.SERVICE, text="", service=service
        )
        self._deliver("message", message)
        return message

    def _member_payload(
        self, chat: Chat, actor: UserRecord, old: Member, new: Member
    ) -> dict[str, Any]:
        return {
            "chat": chat.to_dict(),
            "from": actor.to_dict(),
            "date": self.world.now(),
            "old_chat_member": old.to_dict(chat),
            "new_chat_member": new.to_dict(chat),
        }

    def _my_chat_member(self, chat: Chat, actor: UserRecord, old: Member, new: Member) -> None:
        self.push_update("my_chat_member", self._member_payload(chat, actor, old, new))

    def set_bot_status_now(
        self,
        chat: Chat,
        status: Status,
        *,
        by: UserRecord,
        rights: dict[str, bool] | None = None,
    ) -> None:
        """Change the bot's status in a group and emit ``my_chat_member``."""
        old = chat.member(self.bot)
        granted = (
            {**DEFAULT_ADMIN_RIGHTS, **(rights or {})} if status is Status.ADMINISTRATOR else {}
        )
        new = Member(self.bot, status, granted)
        chat.members[self.bot.id] = new
        self._my_chat_member(chat, by, old, new)

    def set_member_now(
        self,
        chat: Chat,
        user: UserRecord,
        status: Status,
        *,
        by: UserRecord | None = None,
        rights: dict[str, bool] | None = None,
        is_anonymous: bool = False,
        custom_title: str | None = None,
    ) -> None:
        """Change a person's status; ``chat_member`` reaches the bot when it is an admin."""
        old = chat.member(user)
        granted = (
            {**DEFAULT_ADMIN_RIGHTS, **(rights or {})} if status is Status.ADMINISTRATOR else {}
        )
        new = Member(user, status, granted, is_anonymous, custom_title)
        chat.members[user.id] = new
        if chat.member(self.bot).status in ADMINS:
            self.push_update("chat_member", self._member_payload(chat, by or user, old, new))
        else:
            self._changed()

    async def add_bot_to_group(
        self,
        group: Group,
        *,
        by: Person,
        admin: bool = False,
        rights: dict[str, bool] | None = None,
        created: bool = False,
    ) -> None:
        """``by`` adds the bot: ``my_chat_member`` (left → member/administrator), then a
        ``new_chat_members`` message (or ``group_chat_created`` when ``created``)."""
        chat = group.chat
        status = Status.ADMINISTRATOR if admin else Status.MEMBER
        self.set_bot_status_now(chat, status, by=by.record, rights=rights)
        if created:
            key = "supergroup_chat_created" if chat.type == "supergroup" else "group_chat_created"
            self._service(chat, by.record, **{key: True})
        else:
            self._service(chat, by.record, new_chat_members=[self.bot.to_dict()])

    async def promote_bot(
        self, group: Group, *, by: Person, rights: dict[str, bool] | None = None
    ) -> None:
        """Make the bot an administrator (``my_chat_member`` member → administrator)."""
        self.set_bot_status_now(group.chat, Status.ADMINISTRATOR, by=by.record, rights=rights)

    async def demote_bot(self, group: Group, *, by: Person) -> None:
        self.set_bot_status_now(group.chat, Status.MEMBER, by=by.record)

    async def remove_bot_from_group(self, group: Group, *, by: Person | None = None) -> None:
        """``by`` removes the bot (→ kicked); without ``by`` the bot just left (→ left)."""
        if by is None:
            self.set_bot_status_now(group.chat, Status.LEFT, by=self.bot)
        else:
            self.set_bot_status_now(group.chat, Status.KICKED, by=by.record)

    async def set_member_status(
        self,
        group: Group,
        person: Person,
        status: Status | str,
        *,
        by: Person | None = None,
        rights: dict[str, bool] | None = None,
        is_anonymous: bool = False,
        custom_title: str | None = None,
    ) -> None:
        """Set a person's status in a group (no service message)."""
        self.set_member_now(
            group.chat,
            person.record,
            Status(status),
            by=by.record if by else None,
            rights=rights,
            is_anonymous=is_anonymous,
            custom_title=custom_title,
        )

    async def join(self, group: Group, person: Person) -> Message:
        """The person joins: status member, a ``new_chat_members`` message."""
        self.set_member_now(group.chat, person.record, Status.MEMBER)
        return self._service(group.chat, person.record, new_chat_members=[person.record.to_dict()])

    async def leave(self, group: Group, person: Person) -> Message:
        """The person leaves: status left, a ``left_chat_member`` message."""
        self.set_member_now(group.chat, person.record, Status.LEFT)
        return self._service(group.chat, person.record, left_chat_member=person.record.to_dict())

    async def rename(self, group: Group, title: str, *, by: Person) -> Message:
        """``by`` changes the group's title: a ``new_chat_title`` message."""
        group.chat.title = title
        return self._service(group.chat, by.record, new_chat_title=title)

    async def create_topic(self, group: Group, name: str, *, by: Person) -> int:
        """Open a forum topic; returns its ``message_thread_id``."""
        chat = group.chat
        if not chat.is_forum:
            raise AssertionError(f"{chat.title!r} is not a forum")
        opening = self.world.add_message(
            chat,
            by.record,
            kind=MessageKind.SERVICE,
            service={"forum_topic_created": {"name": name, "icon_color": 7322096}},
        )
        opening.thread_id = opening.message_id
        opening.is_topic_message = True
        chat.topics[opening.message_id] = Topic(opening.message_id, name, opening)
        self._deliver("message", opening)
        return opening.message_id

    async def block(self, person: Person) -> None:
        """The person blocks the bot (``my_chat_member`` member → kicked in the private chat)."""
        user = person.record
        if not user.blocked:
            user.blocked = True
            self._my_chat_member(
                person.chat, user, Member(self.bot, Status.MEMBER), Member(self.bot, Status.KICKED)
            )

    async def unblock(self, person: Person) -> None:
        """The person unblocks the bot (``my_chat_member`` kicked → member)."""
        self._unblock_now(person.record)

    async def migrate_to_supergroup(self, group: Group, *, by: Person | None = None) -> Group:
        """Upgrade a basic group (by ``by``, default its creator): ``migrate_to_chat_id`` in
        the old chat, then ``migrate_from_chat_id`` in the new one; the old id then answers
        400 with ``parameters.migrate_to_chat_id``."""
        old = group.chat
        if old.type != "group":
            raise AssertionError("only basic groups migrate")
        actor = by.record if by is not None else None
        if actor is None:
            owners = [m.user for m in old.members.values() if m.status is Status.CREATOR]
            actor = owners[0] if owners else self.bot
        new_group = self.group(old.title or "", supergroup=True)
        new = new_group.chat
        for user_id, member in old.members.items():
            new.members[user_id] = Member(
                member.user, member.status, dict(member.rights), member.is_anonymous
            )
        self._service(old, actor, migrate_to_chat_id=new.id)
        old.migrated_to = new.id
        self._service(new, actor, migrate_from_chat_id=old.id)
        return new_group

    # ----------------------------------------------------------------- waiting

    async def wait_until(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109
        message: str | Callable[[], str] | None = None,
    ) -> T:
        """Re-check ``predicate`` on every state change; return its first truthy value.

        Raises AssertionError (with ``message``) after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                text = message() if callable(message) else message
                raise AssertionError(text or f"condition not met within {timeout} s")
            change = self._change
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(change.wait(), remaining)

    async def quiet(
        self,
        seconds: float = 1.0,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        delivered: bool = True,
    ) -> None:
        """Wait until no call (other than getUpdates) and no update happened for ``seconds``,
        nothing is in flight and (with ``delivered``) every queued update reached the bot."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            idle = time.monotonic() - self._last_activity
            undelivered = delivered and any(u.delivered is None for u in self.queue.pending)
            if delivered and self.webhooks.active and self.queue.pending:
                undelivered = True  # posted but not confirmed yet: a retry is coming
            if self._inflight == 0 and not undelivered and idle >= seconds:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"the bot did not go quiet for {seconds} s within {timeout} s")
            wait = remaining if undelivered or self._inflight else min(seconds - idle, remaining)
            change = self._change
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(change.wait(), max(wait, 0.001))

    async def wait_for_message(
        self,
        chat: Chat,
        *,
        contains: str | None = None,
        predicate: Callable[[Message], bool] | None = None,
        after: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """The first visible bot message in ``chat`` with id > ``after`` that matches."""

        def candidates() -> list[Message]:
            return [
                m
                for m in chat.visible()
                if m.message_id > after and m.from_bot and m.kind is not MessageKind.SERVICE
            ]

        def find() -> Message | None:
            for candidate in candidates():
                if contains is not None and contains not in candidate.text:
                    continue
                if predicate is not None and not predicate(candidate):
                    continue
                return candidate
            return None

        def explain() -> str:
            wanted = f"containing {contains!r}" if contains is not None else "matching"
            seen = "\n".join(f"  {m!r}" for m in candidates()) or "  (none)"
            where = chat.title or (chat.user.full_name if chat.user else chat.id)
            return f"no bot message {wanted} in {where} within {timeout} s; bot messages:\n{seen}"

        return await self.wait_until(find, timeout, explain)

    # ----------------------------------------------------------------- observing the bot

    def on_call(
        self,
        method: str,
        callback: CallCallback,
        *,
        n: int = 1,
        chat_id: int | str | None = None,
    ) -> Hook:
        """After the ``n``-th matching successful call from now, run ``callback(call)`` (sync
        or async) before the bot gets its answer."""
        hook = Hook(method, callback, n, chat_id)
        self.hooks.append(hook)
        return hook

    def calls_to(
        self, method: str, *, chat_id: int | str | None = None, ok: bool | None = None
    ) -> list[ApiCall]:
        """Finished calls of one method (optionally to one chat, only ok / failed)."""
        return [
            call
            for call in self.calls
            if call.method.lower() == method.lower()
            and (chat_id is None or str(call.chat_id) == str(chat_id))
            and (ok is None or call.ok == ok)
        ]

    @property
    def violations(self) -> list[Violation]:
        return self.rates.violations

    def max_overall_in_window(self, seconds: float | None = None) -> int:
        """Most sends in any window (default: the scaled one-second window)."""
        return self.rates.max_overall_in_window(seconds)

    def max_group_writes_in_window(self, chat_id: int, seconds: float | None = None) -> int:
        """Most writes to a group in any window (default: the scaled 60 s window)."""
        return self.rates.max_group_writes_in_window(chat_id, seconds)

    def edit_gaps(self, chat_id: int, message_id: int) -> list[float]:
        """Seconds between consecutive successful edits of one message."""
        return self.rates.edit_gaps(chat_id, message_id)

    def commands(
        self,
        scope_type: str = "default",
        language_code: str = "",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[tuple[str, str]]:
        """The command list stored for exactly this scope and language."""
        stored = self.world.commands.get((scope_type, chat_id, user_id, language_code), [])
        return [(c["command"], c["description"]) for c in stored]

    def visible_commands(self, person: Person, chat: Group | None = None) -> list[tuple[str, str]]:
        """The command menu a Telegram app would show this person (scope and language
        fallbacks applied) in their private chat or in ``chat``."""
        scopes: list[tuple[str, int | None, int | None]]
        if chat is None:
            scopes = [
                ("chat", person.id, None),
                ("all_private_chats", None, None),
                ("default", None, None),
            ]
        else:
            admin = chat.chat.member(person.record).status in ADMINS
            scopes = [("chat_member", chat.chat_id, person.id)]
            if admin:
                scopes.append(("chat_administrators", chat.chat_id, None))
            scopes.append(("chat", chat.chat_id, None))
            if admin:
                scopes.append(("all_chat_administrators", None, None))
            scopes += [("all_group_chats", None, None), ("default", None, None)]
        language = person.record.language_code or ""
        for scope_type, scope_chat, scope_user in scopes:
            for code in (language, ""):
                key = (scope_type, scope_chat, scope_user, code)
                if key in self.world.commands:
                    return [(c["command"], c["description"]) for c in self.world.commands[key]]
        return []
