"""`events sandbox`: the whole bot in a browser, without Telegram or a token.

On loopback: the Bot API emulator, the unmodified bot on an SQLite file of its own (its web
server, with the calendar feeds, on the next port) and a chat page at ``/sandbox`` where one
acts as a host, two members or in their community's group, and moves the bot's clock.
"""

from events.sandbox.page import build_page, serve
from events.sandbox.runner import Sandbox

__all__ = ["Sandbox", "build_page", "serve"]
