"""The emulated Telegram world: users, chats, members, messages, files, commands, calls."""

from __future__ import annotations

import hashlib
import itertools
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .entities import Entity, to_html
from .markup import Button, InlineRows, ReplyKeyboard, buttons_of

ANONYMOUS_ADMIN_ID = 1087968824

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_pin_messages",
    "can_manage_topics",
)
DEFAULT_ADMIN_RIGHTS = {
    **dict.fromkeys(ADMIN_RIGHTS, True),
    "can_promote_members": False,
    "can_send_welcome_messages": False,
}
RESTRICTED_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)


class Status(StrEnum):
    """A chat member's status, spelled as the Bot API spells it."""

    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    RESTRICTED = "restricted"
    LEFT = "left"
    KICKED = "kicked"


PRESENT = frozenset({Status.CREATOR, Status.ADMINISTRATOR, Status.MEMBER, Status.RESTRICTED})
ADMINS = frozenset({Status.CREATOR, Status.ADMINISTRATOR})


@dataclass(eq=False)
class UserRecord:
    """A Telegram user (a person or the bot)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool = False
    started: bool = False
    blocked: bool = False
    known_to_bot: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass(eq=False)
class Member:
    """A user's membership in a group."""

    user: UserRecord
    status: Status
    rights: dict[str, bool] = field(default_factory=dict)
    is_anonymous: bool = False
    custom_title: str | None = None
    is_member: bool = True

    @property
    def present(self) -> bool:
        """In the group (restricted members only while ``is_member``)."""
        if self.status is Status.RESTRICTED:
            return self.is_member
        return self.status in PRESENT

    def can(self, right: str) -> bool:
        if self.status is Status.CREATOR:
            return True
        return self.status is Status.ADMINISTRATOR and self.rights.get(right, False)

    def to_dict(self, chat: Chat) -> dict[str, Any]:
        data: dict[str, Any] = {"status": str(self.status), "user": self.user.to_dict()}
        if self.status is Status.CREATOR:
            data["is_anonymous"] = self.is_anonymous
        elif self.status is Status.ADMINISTRATOR:
            data["can_be_edited"] = False
            data["is_anonymous"] = self.is_anonymous
            for right in ADMIN_RIGHTS:
                if right == "can_manage_topics" and not chat.is_forum:
                    continue
                data[right] = bool(self.rights.get(right, False))
        elif self.status is Status.RESTRICTED:
            data["is_member"] = self.is_member
            for right in RESTRICTED_RIGHTS:
                data[right] = bool(self.rights.get(right, False))
            data["until_date"] = 0
        elif self.status is Status.KICKED:
            data["until_date"] = 0
        if self.custom_title and self.status in ADMINS:
            data["custom_title"] = self.custom_title
        return data


@dataclass(eq=False)
class StoredFile:
    """A file the bot uploaded; downloadable at ``/file/bot<token>/<file_path>``."""

    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    content: bytes
    file_path: str

    def document_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }

    def file_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


class MessageKind(StrEnum):
    TEXT = "text"
    DOCUMENT = "document"
    SERVICE = "service"


@dataclass(eq=False)
class Message:
    """A message in a chat, as it is now (edits applied). Live: edits update this object.

    ``text`` is what a person reads: the message text, or the caption of a document.
    """

    chat: Chat
    message_id: int
    date: int
    sender: UserRecord | None
    time: float
    kind: MessageKind = MessageKind.TEXT
    text: str = ""
    entities: list[Entity] = field(default_factory=list)
    source_html: str | None = None
    sender_chat: Chat | None = None
    document: StoredFile | None = None
    inline_keyboard: InlineRows | None = None
    reply_keyboard: ReplyKeyboard | None = None
    remove_keyboard: bool = False
    force_reply: bool = False
    protect_content: bool = False
    thread_id: int | None = None
    is_topic_message: bool = False
    reply_to: Message | None = None
    link_preview_options: dict[str, Any] | None = None
    service: dict[str, Any] = field(default_factory=dict)
    edit_date: int | None = None
    edits: int = 0
    history: list[str] = field(default_factory=list)
    deleted: bool = False
    pinned: bool = False
    delivered: bool = True
    from_bot: bool = False

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def html(self) -> str:
        """The HTML the bot sent (or the text with entities rendered as HTML)."""
        if self.source_html is not None:
            return self.source_html
        return to_html(self.text, self.entities)

    @property
    def caption(self) -> str | None:
        return self.text if self.kind is MessageKind.DOCUMENT else None

    @property
    def buttons(self) -> list[list[Button]]:
        """Rows of inline buttons."""
        return buttons_of(self.inline_keyboard)

    @property
    def button_texts(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    @property
    def keyboard(self) -> list[list[str]] | None:
        """Rows of the reply keyboard this message brought, if any."""
        return self.reply_keyboard.rows if self.reply_keyboard else None

    def find_button(self, label: str) -> Button:
        """The inline button with this text (exact, else a unique substring)."""
        flat = [button for row in self.buttons for button in row]
        exact = [button for button in flat if button.text == label]
        if len(exact) == 1:
            return exact[0]
        if not exact:
            partial = [button for button in flat if label in button.text]
            if len(partial) != 1:
                partial = [button for button in flat if label.lower() in button.text.lower()]
            if len(partial) == 1:
                return partial[0]
            exact = partial
        visible = [[button.text for button in row] for row in self.buttons]
        reason = "several buttons match" if exact else "no button matches"
        raise AssertionError(f"{reason} {label!r} on message {self.message_id}; buttons: {visible}")

    def to_dict(self, *, with_reply: bool = True) -> dict[str, Any]:
        """The Bot API ``Message`` object."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_dict(),
        }
        if self.sender is not None:
            data["from"] = self.sender.to_dict()
        if self.sender_chat is not None:
            data["sender_chat"] = self.sender_chat.to_dict()
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            if self.is_topic_message:
                data["is_topic_message"] = True
        if self.reply_to is not None and with_reply:
            data["reply_to_message"] = self.reply_to.to_dict(with_reply=False)
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.protect_content:
            data["has_protected_content"] = True
        if self.kind is MessageKind.TEXT:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
            if self.link_preview_options:
                data["link_preview_options"] = self.link_preview_options
        elif self.kind is MessageKind.DOCUMENT and self.document is not None:
            data["document"] = self.document.document_dict()
            if self.text:
                data["caption"] = self.text
            if self.entities:
                data["caption_entities"] = self.entities
        if self.inline_keyboard:
            data["reply_markup"] = {"inline_keyboard": self.inline_keyboard}
        data.update(self.service)
        return data

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else (self.sender.first_name if self.sender else "?")
        extra = f" buttons={self.button_texts}" if self.inline_keyboard else ""
        return f"<Message {self.chat.id}/{self.message_id} {who}: {self.text!r}{extra}>"


@dataclass(eq=False)
class Topic:
    """A forum topic."""

    thread_id: int
    name: str
    opening: Message


@dataclass(eq=False)
class Chat:
    """A private chat with the bot, a group or a supergroup."""

    id: int
    type: str
    title: str | None = None
    user: UserRecord | None = None
    is_forum: bool = False
    username: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    migrated_to: int | None = None
    reply_keyboard: ReplyKeyboard | None = None
    next_message_id: int = 1

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    @property
    def is_group(self) -> bool:
        return self.type in {"group", "supergroup"}

    def to_dict(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.is_private and self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        else:
            data["title"] = self.title
            if self.username:
                data["username"] = self.username
            if self.is_forum:
                data["is_forum"] = True
        return data

    def full_info(self) -> dict[str, Any]:
        """The Bot API ``ChatFullInfo`` object (getChat)."""
        data = self.to_dict()
        data.update(
            {
                "accent_color_id": abs(self.id) % 7,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        pinned = [m for m in self.visible() if m.pinned]
        if pinned:
            data["pinned_message"] = pinned[-1].to_dict(with_reply=False)
        if self.is_group:
            data["permissions"] = {"can_send_messages": True, "can_send_documents": True}
        return data

    def visible(self) -> list[Message]:
        """Messages not deleted, in order."""
        return [m for m in self.messages.values() if not m.deleted]

    def member(self, user: UserRecord) -> Member:
        found = self.members.get(user.id)
        return found if found is not None else Member(user, Status.LEFT)

    def chat_instance(self) -> str:
        return str(int(hashlib.sha1(str(self.id).encode()).hexdigest()[:15], 16))


@dataclass
class CallbackAnswer:
    """How the bot answered a tap."""

    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    time: float


@dataclass(eq=False)
class Tap:
    """A callback query a person made by tapping an inline button."""

    id: str
    user: UserRecord
    message: Message
    data: str
    time: float
    answer: CallbackAnswer | None = None

    @property
    def answered(self) -> bool:
        return self.answer is not None


@dataclass
class ApiCall:
    """One request the bot made: decoded params, arrival time, and the outcome."""

    method: str
    params: dict[str, Any]
    time: float
    ok: bool = False
    status: int = 0
    error_code: int | None = None
    description: str | None = None
    result: Any = None
    chat_id: int | str | None = None
    fault: Any = None
    finished: float | None = None


@dataclass
class WebhookState:
    """What setWebhook stored."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None


class World:
    """Everything the emulated Telegram knows, without any I/O."""

    def __init__(self, bot: UserRecord, wall_clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.wall_clock = wall_clock
        self.anonymous_admin = UserRecord(
            ANONYMOUS_ADMIN_ID, "Group", username="GroupAnonymousBot", is_bot=True
        )
        self.users: dict[int, UserRecord] = {bot.id: bot}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.file_paths: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self.taps: dict[str, Tap] = {}
        self.webhook = WebhookState()
        self._user_ids = itertools.count(700000001)
        self._group_ids = itertools.count(400000001)
        self._supergroup_ids = itertools.count(1000000001)
        self._file_ids = itertools.count(1)
        self._tap_ids = itertools.count(1)

    def now(self) -> int:
        return int(self.wall_clock())

    def continue_ids(self) -> None:
        """New groups and files get ids after the ones in use, as in a world loaded from a
        snapshot (a new user's id needs nothing: it skips the ids in use)."""
        groups = [-chat.id for chat in self.chats.values() if chat.type == "group"]
        supergroups = [
            -chat.id - 10**12 for chat in self.chats.values() if chat.type == "supergroup"
        ]
        self._group_ids = itertools.count(max([400000000, *groups]) + 1)
        self._supergroup_ids = itertools.count(max([1000000000, *supergroups]) + 1)
        self._file_ids = itertools.count(len(self.files) + 1)

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
        is_premium: bool = False,
    ) -> UserRecord:
        uid = user_id if user_id is not None else next(self._user_ids)
        while user_id is None and uid in self.users:
            uid = next(self._user_ids)
        if uid in self.users:
            raise ValueError(f"user id {uid} already exists")
        user = UserRecord(
            uid, first_name, last_name, username, language_code, is_premium=is_premium
        )
        self.users[uid] = user
        self.chats[uid] = Chat(uid, "private", user=user)
        return user

    def add_group(
        self,
        title: str,
        *,
        supergroup: bool,
        forum: bool = False,
        username: str | None = None,
        chat_id: int | None = None,
    ) -> Chat:
        if chat_id is None:
            chat_id = (
                -(1000000000000 + next(self._supergroup_ids))
                if supergroup
                else -next(self._group_ids)
            )
        if chat_id in self.chats:
            raise ValueError(f"chat id {chat_id} already exists")
        chat = Chat(
            chat_id,
            "supergroup" if supergroup else "group",
            title=title,
            is_forum=forum and supergroup,
            username=username,
        )
        chat.members[self.bot.id] = Member(self.bot, Status.LEFT)
        self.chats[chat_id] = chat
        return chat

    def chat_by_ref(self, ref: int | str) -> Chat | None:
        """A chat by id or ``@username``."""
        if isinstance(ref, str) and ref.startswith("@"):
            name = ref[1:].lower()
            return next(
                (c for c in self.chats.values() if c.username and c.username.lower() == name),
                None,
            )
        try:
            return self.chats.get(int(ref))
        except (TypeError, ValueError):
            return None

    def add_message(self, chat: Chat, sender: UserRecord | None, **fields: Any) -> Message:
        message = Message(
            chat=chat,
            message_id=chat.next_message_id,
            date=self.now(),
            sender=sender,
            time=time.monotonic(),
            from_bot=sender is self.bot,
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    def store_file(self, name: str, content: bytes, mime_type: str | None = None) -> StoredFile:
        number = next(self._file_ids)
        digest = hashlib.sha1(content).hexdigest()
        guessed = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}{digest[:24]}",
            file_unique_id=f"AgAD{number:04d}{digest[:8]}",
            file_name=name,
            mime_type=guessed,
            content=content,
            file_path=f"documents/file_{number}.{extension}",
        )
        self.files[stored.file_id] = stored
        self.file_paths[stored.file_path] = stored
        return stored

    def new_tap(self, user: UserRecord, message: Message, data: str) -> Tap:
        number = next(self._tap_ids)
        tap_id = f"{user.id % 10**9}{number:09d}"
        tap = Tap(tap_id, user, message, data, time.monotonic())
        self.taps[tap_id] = tap
        return tap
