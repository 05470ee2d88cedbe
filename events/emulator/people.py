"""The people's side: a Person types and taps; a Group is what its members see."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .state import CallbackAnswer, Chat, Member, Message, MessageKind, Status, Tap, UserRecord

if TYPE_CHECKING:
    from .server import BotAPIEmulator


class _ChatView:
    """What a chat shows: its messages, deleted ones gone, edits applied."""

    @property
    def chat(self) -> Chat:
        raise NotImplementedError

    @property
    def messages(self) -> list[Message]:
        """Everything in the chat (all senders), deleted ones gone, edits applied."""
        return self.chat.visible()

    @property
    def bot_messages(self) -> list[Message]:
        return [m for m in self.messages if m.from_bot and m.kind is not MessageKind.SERVICE]

    @property
    def last_message(self) -> Message | None:
        """The latest bot message in the chat."""
        found = self.bot_messages
        return found[-1] if found else None


class Person(_ChatView):
    """A Telegram user. Their private chat with the bot has ``chat_id == id``."""

    def __init__(self, emu: BotAPIEmulator, record: UserRecord) -> None:
        self.emu = emu
        self.record = record
        self._marks: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"<Person {self.record.full_name} {self.id}>"

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def chat_id(self) -> int:
        return self.record.id

    @property
    def first_name(self) -> str:
        return self.record.first_name

    @property
    def username(self) -> str | None:
        return self.record.username

    @property
    def language_code(self) -> str | None:
        return self.record.language_code

    @property
    def started(self) -> bool:
        """Has ever written to the bot in private."""
        return self.record.started

    @property
    def blocked(self) -> bool:
        return self.record.blocked

    @property
    def chat(self) -> Chat:
        """The private chat with the bot."""
        return self.emu.world.chats[self.id]

    def to_dict(self) -> dict[str, Any]:
        return self.record.to_dict()

    @property
    def keyboard(self) -> list[list[str]] | None:
        """The reply keyboard shown in the private chat now, if any."""
        keyboard = self.chat.reply_keyboard
        return keyboard.rows if keyboard else None

    def _target(self, chat: Group | Chat | None) -> Chat:
        if chat is None:
            return self.chat
        return chat.chat if isinstance(chat, Group) else chat

    async def send(
        self,
        text: str,
        *,
        chat: Group | None = None,
        reply_to: Message | None = None,
        thread_id: int | None = None,
    ) -> Message:
        """Type ``text`` in the private chat (or ``chat``); commands get bot_command entities.

        In private this marks the person as having started the bot (and unblocks it).
        """
        target = reply_to.chat if reply_to is not None else self._target(chat)
        message = self.emu.inject_message(
            self.record, target, text, reply_to=reply_to, thread_id=thread_id
        )
        self._marks[target.id] = message.message_id
        return message

    async def send_document(self, name: str, content: bytes, *, caption: str = "") -> Message:
        """Send a file to the bot in the private chat (not text: what a wizard must refuse)."""
        message = self.emu.inject_document(self.record, self.chat, name, content, caption)
        self._marks[self.chat.id] = message.message_id
        return message

    async def reply_to(self, message: Message, text: str) -> Message:
        """Reply to ``message`` in its chat."""
        return await self.send(text, reply_to=message)

    async def choose(self, label: str) -> Message:
        """Press a reply-keyboard key (sends its text); fails if no such key is shown."""
        keys = [key for row in self.keyboard or [] for key in row]
        if label not in keys:
            raise AssertionError(f"no key {label!r} on the keyboard; keys: {keys}")
        return await self.send(label)

    async def edit(self, message: Message, text: str) -> Message:
        """Edit one of their own messages."""
        return self.emu.inject_edit(self.record, message, text)

    async def press(self, message: Message, button: str, *, data: str | None = None) -> Tap:
        """Tap an inline button without waiting for the answer (``data``: forge its data)."""
        tap = self.emu.inject_tap(self.record, message, button, data=data)
        self._marks[message.chat.id] = message.chat.next_message_id - 1
        return tap

    async def tap(
        self,
        message: Message,
        button: str,
        *,
        data: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Tap an inline button (exact text or a unique substring) and wait for the answer.

        ``data`` sends other callback data than the button's: a forged or replayed tap.
        """
        tap = await self.press(message, button, data=data)
        await self.emu.wait_until(
            lambda: tap.answered,
            timeout,
            f"the bot did not answer the tap on {button!r} within {timeout} s",
        )
        assert tap.answer is not None
        return tap.answer

    async def wait_for_message(
        self,
        contains: str | None = None,
        *,
        predicate: Callable[[Message], bool] | None = None,
        chat: Group | None = None,
        after: Message | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """The first bot message since this person's last action in that chat (or since
        ``after``) that contains ``contains`` and satisfies ``predicate``."""
        target = self._target(chat)
        mark = after.message_id if after is not None else self._marks.get(target.id, 0)
        return await self.emu.wait_for_message(
            target, contains=contains, predicate=predicate, after=mark, timeout=timeout
        )

    async def wait_for_edit(
        self,
        message: Message,
        contains: str | None = None,
        *,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """Wait until ``message`` contains/satisfies; with neither, until its next edit."""
        edits = message.edits

        def done() -> Message | None:
            if contains is None and predicate is None:
                return message if message.edits > edits else None
            if contains is not None and contains not in message.text:
                return None
            if predicate is not None and not predicate(message):
                return None
            return message

        return await self.emu.wait_until(
            done, timeout, lambda: f"{message!r} did not change as expected within {timeout} s"
        )

    async def block(self) -> None:
        await self.emu.block(self)

    async def unblock(self) -> None:
        await self.emu.unblock(self)


class Group(_ChatView):
    """A group or supergroup; ``messages`` is what every member sees."""

    def __init__(self, emu: BotAPIEmulator, chat: Chat) -> None:
        self.emu = emu
        self._chat = chat

    @property
    def chat(self) -> Chat:
        return self._chat

    def __repr__(self) -> str:
        return f"<Group {self.title!r} {self.chat_id}>"

    @property
    def id(self) -> int:
        return self.chat.id

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def title(self) -> str:
        return self.chat.title or ""

    @property
    def type(self) -> str:
        return self.chat.type

    @property
    def is_forum(self) -> bool:
        return self.chat.is_forum

    @property
    def pinned(self) -> list[Message]:
        return [m for m in self.chat.visible() if m.pinned]

    def member(self, person: Person) -> Member:
        return self.chat.member(person.record)

    def status(self, person: Person) -> Status:
        return self.chat.member(person.record).status

    @property
    def bot_status(self) -> Status:
        return self.chat.member(self.emu.bot).status

    async def send_as_anonymous_admin(
        self, text: str, *, thread_id: int | None = None, reply_to: Message | None = None
    ) -> Message:
        """A message from the group itself (``sender_chat`` = this group)."""
        return self.emu.inject_message(
            self.emu.world.anonymous_admin,
            self.chat,
            text,
            reply_to=reply_to,
            thread_id=thread_id,
            anonymous=True,
        )

    async def join(self, person: Person) -> Message:
        return await self.emu.join(self, person)

    async def leave(self, person: Person) -> Message:
        return await self.emu.leave(self, person)

    async def create_topic(self, name: str, *, by: Person) -> int:
        return await self.emu.create_topic(self, name, by=by)

    async def wait_for_message(
        self,
        contains: str | None = None,
        *,
        predicate: Callable[[Message], bool] | None = None,
        after: Message | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """The first bot message in the group (after ``after``) that matches."""
        return await self.emu.wait_for_message(
            self.chat,
            contains=contains,
            predicate=predicate,
            after=after.message_id if after is not None else 0,
            timeout=timeout,
        )
