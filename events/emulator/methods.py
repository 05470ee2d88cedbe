"""The Bot API methods: validation like Telegram, then changes to the world."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .entities import Entity, merge_detected, sort_entities, trim, utf16_len
from .errors import (
    MSG_BLOCKED,
    MSG_CANT_INITIATE,
    MSG_CONFLICT_SET_WEBHOOK,
    MSG_NOT_MODIFIED,
    MSG_QUERY_TOO_OLD,
    bad_request,
    forbidden,
    too_many_requests,
)
from .html import HtmlParseError, parse_html
from .limits import ChatKind, Write
from .markup import ParsedMarkup, parse_reply_markup
from .params import Params, Upload
from .state import ADMINS, CallbackAnswer, Chat, Message, MessageKind, Status, Topic, World

if TYPE_CHECKING:
    from .server import BotAPIEmulator

Handler = Callable[[Params], Awaitable[Any]]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_TEXT = 200
SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
_TG_USER_RE = re.compile(r"^tg://user\?id=(\d+)$")

WRITE_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)


def chat_kind(chat: Chat) -> ChatKind:
    return ChatKind.PRIVATE if chat.is_private else ChatKind.GROUP


class BotMethods:
    """Implements each supported method against the emulator's world."""

    def __init__(self, emu: BotAPIEmulator) -> None:
        self.emu = emu
        self.handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendMessage": self.send_message,
            "sendDocument": self.send_document,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "pinChatMessage": self.pin_chat_message,
            "unpinChatMessage": self.unpin_chat_message,
            "answerCallbackQuery": self.answer_callback_query,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "getChatMemberCount": self.get_chat_member_count,
            "leaveChat": self.leave_chat,
            "getFile": self.get_file,
        }

    @property
    def world(self) -> World:
        """The emulator's world (a restored one too)."""
        return self.emu.world

    # ----------------------------------------------------------------- helpers

    def _chat(self, p: Params) -> Chat:
        chat = self.world.chat_by_ref(p.chat_ref())
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _check_group(self, chat: Chat) -> None:
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        bot = chat.member(self.world.bot)
        if bot.status is Status.KICKED:
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if not bot.present:
            raise forbidden(f"bot is not a member of the {chat.type} chat")

    def _writable(self, p: Params) -> Chat:
        """The target chat of a write, with Telegram's 400/403 answers."""
        chat = self._chat(p)
        if chat.is_private:
            user = chat.user
            assert user is not None
            if user.blocked:
                raise forbidden(MSG_BLOCKED)
            if not user.started:
                raise forbidden(MSG_CANT_INITIATE)
        else:
            self._check_group(chat)
        return chat

    def _readable(self, p: Params) -> Chat:
        chat = self._chat(p)
        if chat.is_private:
            user = chat.user
            assert user is not None
            if not (user.started or user.known_to_bot):
                raise bad_request("chat not found")
        else:
            self._check_group(chat)
        return chat

    def _format(
        self, text: str, parse_mode: str | None, raw_entities: Any
    ) -> tuple[str, list[Entity], str | None]:
        """Text, entities and source HTML the way Telegram stores them."""
        source: str | None = None
        if raw_entities is not None:
            entities = self._explicit_entities(raw_entities)
            text, entities = trim(text, entities)
        elif parse_mode:
            if parse_mode.lower() != "html":
                raise bad_request(f"unsupported parse_mode {parse_mode!r} (only HTML is emulated)")
            try:
                parsed = parse_html(text, strict_ampersand=self.emu.strict_html)
            except HtmlParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
            text, entities, source = parsed.text, parsed.entities, text
        else:
            text, entities = trim(text, [])
        return text, merge_detected(text, [self._mention(e) for e in entities]), source

    def _explicit_entities(self, raw: Any) -> list[Entity]:
        if not isinstance(raw, list):
            raise bad_request("can't parse entities JSON object")
        entities: list[Entity] = []
        for item in raw:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("type"), str)
                or not isinstance(item.get("offset"), int)
                or not isinstance(item.get("length"), int)
            ):
                raise bad_request("can't parse MessageEntity JSON object")
            entities.append(dict(item))
        return sort_entities(entities)

    def _mention(self, entity: Entity) -> Entity:
        if entity["type"] != "text_link":
            return entity
        match = _TG_USER_RE.match(entity["url"])
        user = self.world.users.get(int(match.group(1))) if match else None
        if user is None:
            return entity
        return {
            "type": "text_mention",
            "offset": entity["offset"],
            "length": entity["length"],
            "user": user.to_dict(),
        }

    def _markup(self, p: Params) -> ParsedMarkup:
        return parse_reply_markup(p.obj("reply_markup", "reply keyboard markup"))

    def _inline_markup(self, p: Params) -> ParsedMarkup:
        markup = self._markup(p)
        if markup.reply_keyboard or markup.remove_keyboard or markup.force_reply:
            raise bad_request("inline keyboard expected")
        return markup

    def _thread(self, chat: Chat, p: Params) -> Topic | None:
        thread_id = p.get_int("message_thread_id")
        if thread_id is None or not chat.is_forum or thread_id == 1:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise bad_request("message thread not found")
        return topic

    def _reply_target(self, chat: Chat, p: Params) -> Message | None:
        parameters = p.obj("reply_parameters", "reply parameters")
        allow = p.get_bool("allow_sending_without_reply")
        message_id: int | None = None
        target_chat = chat
        if isinstance(parameters, dict):
            message_id = parameters.get("message_id")
            allow = allow or bool(parameters.get("allow_sending_without_reply"))
            if parameters.get("chat_id") not in (None, chat.id):
                found = self.world.chat_by_ref(parameters["chat_id"])
                if found is None:
                    raise bad_request("chat not found")
                target_chat = found
        elif parameters is not None:
            raise bad_request("can't parse reply parameters JSON object")
        else:
            message_id = p.get_int("reply_to_message_id")
        if message_id is None:
            return None
        target = target_chat.messages.get(int(message_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _admit(self, write: Write) -> None:
        retry_after = self.emu.rates.admit(write, time.monotonic())
        if retry_after is not None:
            raise too_many_requests(retry_after)

    def _commit(self, write: Write) -> None:
        self.emu.rates.commit(write, time.monotonic())

    def _new_bot_message(
        self, chat: Chat, p: Params, markup: ParsedMarkup, **fields: Any
    ) -> Message:
        topic = self._thread(chat, p)
        reply_to = self._reply_target(chat, p)
        thread_id: int | None = None
        if topic is not None:
            thread_id = topic.thread_id
        elif reply_to is not None and reply_to.is_topic_message:
            thread_id = reply_to.thread_id
        if reply_to is None and thread_id is not None:
            reply_to = chat.topics[thread_id].opening
        link_preview = p.obj("link_preview_options", "link preview options")
        if link_preview is None and p.get_bool("disable_web_page_preview"):
            link_preview = {"is_disabled": True}
        write = Write(chat.id, chat_kind(chat), True)
        self._admit(write)
        message = self.world.add_message(
            chat,
            self.world.bot,
            inline_keyboard=markup.inline,
            reply_keyboard=markup.reply_keyboard,
            remove_keyboard=markup.remove_keyboard,
            force_reply=markup.force_reply,
            protect_content=p.get_bool("protect_content"),
            thread_id=thread_id,
            is_topic_message=thread_id is not None,
            reply_to=reply_to,
            link_preview_options=link_preview if isinstance(link_preview, dict) else None,
            **fields,
        )
        if markup.reply_keyboard is not None:
            chat.reply_keyboard = markup.reply_keyboard
        elif markup.remove_keyboard:
            chat.reply_keyboard = None
        self._commit(write)
        return message

    def _own_message(self, p: Params, missing: str) -> tuple[Chat, Message]:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._writable(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(missing)
        return chat, message

    def _edit(self, chat: Chat, message: Message, **changes: Any) -> dict[str, Any]:
        unchanged = all(getattr(message, name) == value for name, value in changes.items())
        if unchanged:
            raise bad_request(MSG_NOT_MODIFIED)
        write = Write(chat.id, chat_kind(chat), False, message.message_id)
        self._admit(write)
        if "text" in changes:
            message.history.append(message.text)
            message.edit_date = self.world.now()
        for name, value in changes.items():
            setattr(message, name, value)
        message.edits += 1
        self._commit(write)
        return message.to_dict()

    # ----------------------------------------------------------------- updates, webhook

    async def get_me(self, p: Params) -> dict[str, Any]:
        return {
            **self.world.bot.to_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.emu.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, p: Params) -> list[dict[str, Any]]:
        allowed = p.obj("allowed_updates", "allowed updates")
        if allowed is not None and not isinstance(allowed, list):
            raise bad_request("can't parse allowed updates JSON object")
        limit = p.get_int("limit")
        return await self.emu.queue.poll(
            offset=p.get_int("offset"),
            limit=100 if limit is None else limit,
            wait=float(p.get_int("timeout") or 0),
            allowed_updates=allowed,
            webhook_active=bool(self.world.webhook.url),
        )

    async def set_webhook(self, p: Params) -> bool:
        url = p.get_str("url") or ""
        if not url:
            return await self.delete_webhook(p)
        parts = urlsplit(url)
        local = parts.hostname in {"127.0.0.1", "localhost"}
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get_str("secret_token")
        if secret is not None and not _SECRET_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.obj("allowed_updates", "allowed updates")
        self.emu.queue.set_allowed(allowed if isinstance(allowed, list) else None)
        if p.get_bool("drop_pending_updates"):
            self.emu.queue.drop_pending()
        webhook = self.world.webhook
        webhook.url = url
        webhook.secret_token = secret
        webhook.max_connections = p.get_int("max_connections") or 40
        webhook.ip_address = p.get_str("ip_address")
        self.emu.queue.terminate_poller(MSG_CONFLICT_SET_WEBHOOK)
        self.emu.webhooks.poke()  # pending updates go to the webhook now
        return True

    async def delete_webhook(self, p: Params) -> bool:
        self.world.webhook.url = ""
        self.world.webhook.secret_token = None
        if p.get_bool("drop_pending_updates"):
            self.emu.queue.drop_pending()
        return True

    async def get_webhook_info(self, p: Params) -> dict[str, Any]:
        webhook = self.world.webhook
        info: dict[str, Any] = {
            "url": webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.emu.queue.pending),
        }
        if webhook.url:
            info["max_connections"] = webhook.max_connections
            info["allowed_updates"] = sorted(self.emu.queue.allowed)
            if webhook.ip_address:
                info["ip_address"] = webhook.ip_address
        return info

    # ----------------------------------------------------------------- commands

    def _scope_key(self, p: Params) -> tuple[str, int | None, int | None, str]:
        scope = p.obj("scope", "BotCommandScope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        language = p.get_str("language_code") or ""
        if language and not _LANGUAGE_RE.match(language):
            raise bad_request("invalid language code specified")
        chat_id: int | None = None
        user_id: int | None = None
        if scope["type"] in {"chat", "chat_administrators", "chat_member"}:
            chat = self.world.chat_by_ref(scope.get("chat_id", ""))
            if chat is None:
                raise bad_request("chat not found")
            chat_id = chat.id
        if scope["type"] == "chat_member":
            user_id = int(scope.get("user_id", 0))
            if user_id not in self.world.users:
                raise bad_request("user not found")
        return scope["type"], chat_id, user_id, language

    async def set_my_commands(self, p: Params) -> bool:
        commands = p.obj("commands", "bot commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse bot commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[dict[str, str]] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand JSON object")
            command = str(item.get("command", "")).removeprefix("/")
            description = str(item.get("description", ""))
            if not _COMMAND_RE.match(command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description})
        key = self._scope_key(p)
        if cleaned:
            self.world.commands[key] = cleaned
        else:
            self.world.commands.pop(key, None)
        return True

    async def get_my_commands(self, p: Params) -> list[dict[str, str]]:
        return list(self.world.commands.get(self._scope_key(p), []))

    async def delete_my_commands(self, p: Params) -> bool:
        self.world.commands.pop(self._scope_key(p), None)
        return True

    # ----------------------------------------------------------------- messages

    async def send_message(self, p: Params) -> dict[str, Any]:
        chat = self._writable(p)
        text, entities, source = self._text(p)
        markup = self._markup(p)
        message = self._new_bot_message(
            chat,
            p,
            markup,
            kind=MessageKind.TEXT,
            text=text,
            entities=entities,
            source_html=source,
        )
        return message.to_dict()

    def _text(self, p: Params) -> tuple[str, list[Entity], str | None]:
        """A message text as Telegram checks it: present, parseable, at most 4096 long."""
        raw_text = p.get_str("text")
        if not raw_text:
            raise bad_request("message text is empty")
        text, entities, source = self._format(
            raw_text, p.get_str("parse_mode"), p.obj("entities", "entities")
        )
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities, source

    def _caption(self, p: Params) -> tuple[str, list[Entity], str | None]:
        raw = p.get_str("caption") or ""
        text, entities, source = self._format(
            raw, p.get_str("parse_mode"), p.obj("caption_entities", "caption entities")
        )
        if utf16_len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return text, entities, source

    async def send_document(self, p: Params) -> dict[str, Any]:
        chat = self._writable(p)
        document = p.values.get("document")
        if isinstance(document, Upload):
            if not document.content:
                raise bad_request("file must be non-empty")
            stored = None
        elif isinstance(document, str) and document in self.world.files:
            stored = self.world.files[document]
        elif document in (None, ""):
            raise bad_request("there is no document in the request")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        text, entities, source = self._caption(p)
        markup = self._markup(p)
        if stored is None:
            assert isinstance(document, Upload)
            stored = self.world.store_file(document.filename or "document", document.content, None)
        message = self._new_bot_message(
            chat,
            p,
            markup,
            kind=MessageKind.DOCUMENT,
            document=stored,
            text=text,
            entities=entities,
            source_html=source,
        )
        return message.to_dict()

    async def edit_message_text(self, p: Params) -> dict[str, Any]:
        chat, message = self._own_message(p, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if message.kind is not MessageKind.TEXT:
            raise bad_request("there is no text in the message to edit")
        text, entities, source = self._text(p)
        markup = self._inline_markup(p)
        changes: dict[str, Any] = {
            "text": text,
            "entities": entities,
            "inline_keyboard": markup.inline,
        }
        result = self._edit(chat, message, **changes)
        message.source_html = source
        link_preview = p.obj("link_preview_options", "link preview options")
        if isinstance(link_preview, dict):
            message.link_preview_options = link_preview
        return result

    async def edit_message_caption(self, p: Params) -> dict[str, Any]:
        chat, message = self._own_message(p, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if message.kind is not MessageKind.DOCUMENT:
            raise bad_request("there is no caption in the message to edit")
        text, entities, source = self._caption(p)
        markup = self._inline_markup(p)
        result = self._edit(
            chat, message, text=text, entities=entities, inline_keyboard=markup.inline
        )
        message.source_html = source
        return result

    async def edit_message_reply_markup(self, p: Params) -> dict[str, Any]:
        chat, message = self._own_message(p, "message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        markup = self._inline_markup(p)
        return self._edit(chat, message, inline_keyboard=markup.inline)

    async def delete_message(self, p: Params) -> bool:
        chat = self._writable(p)
        message_id = p.get_int("message_id")
        message = chat.messages.get(message_id) if message_id is not None else None
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if (
            chat.is_group
            and not message.from_bot
            and not chat.member(self.world.bot).can("can_delete_messages")
        ):
            raise bad_request("message can't be deleted")
        message.deleted = True
        return True

    def _check_pin_rights(self, chat: Chat) -> None:
        if chat.is_group and not chat.member(self.world.bot).can("can_pin_messages"):
            raise bad_request("not enough rights to manage pinned messages in the chat")

    async def pin_chat_message(self, p: Params) -> bool:
        chat = self._writable(p)
        message_id = p.get_int("message_id")
        message = chat.messages.get(message_id) if message_id is not None else None
        if message is None or message.deleted:
            raise bad_request("message to pin not found")
        self._check_pin_rights(chat)
        message.pinned = True
        if chat.is_group:
            self.world.add_message(
                chat,
                self.world.bot,
                kind=MessageKind.SERVICE,
                service={"pinned_message": message.to_dict(with_reply=False)},
                thread_id=message.thread_id,
                is_topic_message=message.is_topic_message,
            )
        return True

    async def unpin_chat_message(self, p: Params) -> bool:
        chat = self._writable(p)
        self._check_pin_rights(chat)
        message_id = p.get_int("message_id")
        pinned = [m for m in chat.visible() if m.pinned]
        if message_id is not None:
            target = chat.messages.get(message_id)
            if target is None or target.deleted:
                raise bad_request("message to unpin not found")
            target.pinned = False
        elif pinned:
            pinned[-1].pinned = False
        return True

    # ----------------------------------------------------------------- callbacks

    def _answer_url_ok(self, url: str) -> bool:
        name = re.escape(self.world.bot.username or "")
        pattern = rf"^(?:https?://)?t\.me/{name}\?(?:start|startgroup)=[A-Za-z0-9_-]{{1,64}}$"
        return re.match(pattern, url, re.IGNORECASE) is not None

    async def answer_callback_query(self, p: Params) -> bool:
        query_id = p.get_str("callback_query_id") or ""
        tap = self.world.taps.get(query_id)
        now = time.monotonic()
        if tap is None or tap.answered or now - tap.time > self.emu.callback_ttl:
            raise bad_request(MSG_QUERY_TOO_OLD)
        text = p.get_str("text")
        if text is not None and utf16_len(text) > MAX_CALLBACK_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        url = p.get_str("url")
        if url and not self._answer_url_ok(url):
            raise bad_request("URL_INVALID")
        tap.answer = CallbackAnswer(
            text=text or None,
            show_alert=p.get_bool("show_alert"),
            url=url or None,
            cache_time=p.get_int("cache_time") or 0,
            time=now,
        )
        return True

    # ----------------------------------------------------------------- chats and members

    async def get_chat(self, p: Params) -> dict[str, Any]:
        return self._readable(p).full_info()

    async def get_chat_member(self, p: Params) -> dict[str, Any]:
        chat = self._readable(p)
        user_id = p.get_int("user_id")
        user = self.world.users.get(user_id) if user_id is not None else None
        if user is None:
            raise bad_request("user not found" if user_id else "user_id is empty")
        if chat.is_private:
            if user is not chat.user and user is not self.world.bot:
                raise bad_request("user not found")
            return {"status": "member", "user": user.to_dict()}
        return chat.member(user).to_dict(chat)

    async def get_chat_administrators(self, p: Params) -> list[dict[str, Any]]:
        chat = self._readable(p)
        if chat.is_private:
            raise bad_request("there are no administrators in the private chat")
        admins = [m for m in chat.members.values() if m.status in ADMINS]
        admins.sort(key=lambda m: m.status is not Status.CREATOR)
        return [m.to_dict(chat) for m in admins]

    async def get_chat_member_count(self, p: Params) -> int:
        chat = self._readable(p)
        if chat.is_private:
            return 2
        return sum(1 for m in chat.members.values() if m.present)

    async def leave_chat(self, p: Params) -> bool:
        chat = self._readable(p)
        if chat.is_private:
            raise bad_request("chat member status can't be changed in private chats")
        self.emu.set_bot_status_now(chat, Status.LEFT, by=self.world.bot)
        return True

    async def get_file(self, p: Params) -> dict[str, Any]:
        stored = self.world.files.get(p.get_str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.file_dict()
