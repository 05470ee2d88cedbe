"""A Telegram Bot API emulator: real HTTP for the bot, a people's API for tests and the sandbox.

    async with BotAPIEmulator("123456:TEST", bot_username="events_test_bot") as emu:
        bot = Bot(emu.token, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
        dewi = emu.user("Dewi", language_code="id")
        await dewi.send("/start")
        greeting = await dewi.wait_for_message(contains="Halo")
        answer = await dewi.tap(greeting, "English")

The bot sees only HTTP; tests read ``Person.messages`` / ``Group.messages`` (what people
see), ``emu.calls`` (every request), ``emu.violations`` (flood limits) and script failures
with ``emu.faults``.
"""

from .errors import ApiError
from .faults import Blocked, Delay, Drop, Failure, Fault, Faults, RetryAfter, ServerError
from .html import HtmlParseError, ParsedText, parse_html
from .limits import Limits, RateTracker, Violation, ViolationKind
from .markup import Button, ReplyKeyboard
from .params import Upload
from .people import Group, Person
from .polling import Update
from .server import BotAPIEmulator, Hook
from .snapshot import SnapshotError
from .state import (
    ApiCall,
    CallbackAnswer,
    Chat,
    Member,
    Message,
    MessageKind,
    Status,
    StoredFile,
    Tap,
    UserRecord,
)

__all__ = [
    "ApiCall",
    "ApiError",
    "Blocked",
    "BotAPIEmulator",
    "Button",
    "CallbackAnswer",
    "Chat",
    "Delay",
    "Drop",
    "Failure",
    "Fault",
    "Faults",
    "Group",
    "Hook",
    "HtmlParseError",
    "Limits",
    "Member",
    "Message",
    "MessageKind",
    "ParsedText",
    "Person",
    "RateTracker",
    "ReplyKeyboard",
    "RetryAfter",
    "ServerError",
    "SnapshotError",
    "Status",
    "StoredFile",
    "Tap",
    "Update",
    "Upload",
    "UserRecord",
    "Violation",
    "ViolationKind",
    "parse_html",
]
