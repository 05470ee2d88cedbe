"""A world as JSON-ready data and back: people, chats with their members and messages, files and
command menus. What is in flight (taps waiting for an answer, the calls log, a webhook) is not
kept. The sandbox saves its Telegram this way between runs."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

from .markup import ReplyKeyboard
from .state import Chat, Member, Message, MessageKind, Status, StoredFile, Topic, UserRecord, World

FORMAT = 1

# Message fields kept as references (ids) or not kept at all (``time`` is this process's own).
_LINKED = frozenset({"chat", "sender", "sender_chat", "document", "reply_to", "reply_keyboard"})
_MESSAGE_FIELDS = tuple(f.name for f in fields(Message) if f.name not in {*_LINKED, "time"})


class SnapshotError(ValueError):
    """The data is not a world this emulator wrote."""


def _keyboard(keyboard: ReplyKeyboard | None) -> dict[str, Any] | None:
    return asdict(keyboard) if keyboard is not None else None


def _message(message: Message) -> dict[str, Any]:
    data = {name: getattr(message, name) for name in _MESSAGE_FIELDS}
    data.update(
        sender=message.sender.id if message.sender else None,
        sender_chat=message.sender_chat.id if message.sender_chat else None,
        document=message.document.file_id if message.document else None,
        reply_to=message.reply_to.message_id if message.reply_to else None,
        reply_keyboard=_keyboard(message.reply_keyboard),
    )
    return data


def _chat(chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "type": chat.type,
        "title": chat.title,
        "user": chat.user.id if chat.user else None,
        "is_forum": chat.is_forum,
        "username": chat.username,
        "migrated_to": chat.migrated_to,
        "next_message_id": chat.next_message_id,
        "reply_keyboard": _keyboard(chat.reply_keyboard),
        "members": [
            {
                "user": member.user.id,
                "status": member.status,
                "rights": member.rights,
                "is_anonymous": member.is_anonymous,
                "custom_title": member.custom_title,
                "is_member": member.is_member,
            }
            for member in chat.members.values()
        ],
        "topics": [
            {"thread_id": topic.thread_id, "name": topic.name, "opening": topic.opening.message_id}
            for topic in chat.topics.values()
        ],
        "messages": [_message(message) for message in chat.messages.values()],
    }


def dump_world(world: World) -> dict[str, Any]:
    """The world as data that ``json.dumps`` takes."""
    return {
        "format": FORMAT,
        "users": [asdict(user) for user in world.users.values() if user is not world.bot],
        "chats": [_chat(chat) for chat in world.chats.values()],
        "files": [
            {**asdict(stored), "content": base64.b64encode(stored.content).decode("ascii")}
            for stored in world.files.values()
        ],
        "commands": [
            {"scope": list(scope), "commands": commands}
            for scope, commands in world.commands.items()
        ],
    }


def load_world(data: dict[str, Any], bot: UserRecord, wall_clock: Callable[[], float]) -> World:
    """The world :func:`dump_world` wrote, around ``bot``; raises SnapshotError for other data."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SnapshotError("not a world snapshot of this format")
    try:
        return _load(data, World(bot, wall_clock))
    except (KeyError, TypeError, ValueError) as error:
        raise SnapshotError(f"a broken world snapshot ({type(error).__name__}: {error})") from None


def _load(data: dict[str, Any], world: World) -> World:
    for raw in data["users"]:
        user = UserRecord(**raw)
        world.users[user.id] = user

    def user_of(user_id: int | None) -> UserRecord | None:
        if user_id is None:
            return None
        if user_id == world.anonymous_admin.id:
            return world.anonymous_admin
        return world.users[user_id]

    for raw in data["files"]:
        stored = StoredFile(**{**raw, "content": base64.b64decode(raw["content"])})
        world.files[stored.file_id] = stored
        world.file_paths[stored.file_path] = stored
    chats = [_chat_of(raw, user_of) for raw in data["chats"]]
    for chat in chats:
        world.chats[chat.id] = chat
    for chat, raw in zip(chats, data["chats"], strict=True):
        for message in raw["messages"]:
            _add_message(world, chat, message, user_of)
        for topic in raw["topics"]:
            opening = chat.messages[topic["opening"]]
            chat.topics[topic["thread_id"]] = Topic(topic["thread_id"], topic["name"], opening)
    for entry in data["commands"]:
        scope_type, chat_id, user_id, language = entry["scope"]
        world.commands[(scope_type, chat_id, user_id, language)] = entry["commands"]
    world.continue_ids()
    return world


def _chat_of(raw: dict[str, Any], user_of: Callable[[int | None], UserRecord | None]) -> Chat:
    keyboard = raw["reply_keyboard"]
    chat = Chat(
        id=raw["id"],
        type=raw["type"],
        title=raw["title"],
        user=user_of(raw["user"]),
        is_forum=raw["is_forum"],
        username=raw["username"],
        migrated_to=raw["migrated_to"],
        reply_keyboard=ReplyKeyboard(**keyboard) if keyboard else None,
        next_message_id=raw["next_message_id"],
    )
    for member in raw["members"]:
        user = user_of(member["user"])
        assert user is not None
        chat.members[user.id] = Member(
            user,
            Status(member["status"]),
            member["rights"],
            member["is_anonymous"],
            member["custom_title"],
            member["is_member"],
        )
    return chat


def _add_message(
    world: World,
    chat: Chat,
    raw: dict[str, Any],
    user_of: Callable[[int | None], UserRecord | None],
) -> None:
    keyboard = raw["reply_keyboard"]
    values = {name: raw[name] for name in _MESSAGE_FIELDS}
    values["kind"] = MessageKind(values["kind"])
    message = Message(
        chat=chat,
        sender=user_of(raw["sender"]),
        sender_chat=world.chats[raw["sender_chat"]] if raw["sender_chat"] is not None else None,
        document=world.files[raw["document"]] if raw["document"] is not None else None,
        reply_to=chat.messages[raw["reply_to"]] if raw["reply_to"] is not None else None,
        reply_keyboard=ReplyKeyboard(**keyboard) if keyboard else None,
        time=0.0,
        **values,
    )
    chat.messages[message.message_id] = message
