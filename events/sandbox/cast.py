"""Who is in the sandbox: the bot, a host, two members and their community's group.

Their Telegram ids are fixed, so the page and a saved world always agree on who is who.
"""

from __future__ import annotations

from dataclasses import dataclass

TOKEN = "100000001:sandbox-not-a-real-token"
BOT_USERNAME = "events_sandbox_bot"
BOT_NAME = "Events"

GROUP_ID = -1001000000001
GROUP_TITLE = "Lingkar Tenang"


@dataclass(frozen=True)
class Character:
    key: str  # how the page names them
    user_id: int
    first_name: str
    language_code: str  # what their Telegram app reports
    city: str  # what they type after /timezone
    host: bool = False


AYU = Character("ayu", 700000101, "Ayu", "id", "Jakarta", host=True)  # WIB, created the group
DEWI = Character("dewi", 700000102, "Dewi", "id", "Makassar")  # WITA
SAM = Character("sam", 700000103, "Sam", "en", "Amsterdam")  # Europe/Amsterdam
CAST = (AYU, DEWI, SAM)
BY_KEY = {character.key: character for character in CAST}
