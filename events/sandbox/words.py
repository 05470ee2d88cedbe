"""The words of the sandbox page around the chats, in the language of the person it shows.

They come from the bot's catalogues like everything else people read; the page itself holds no
text of its own.
"""

from __future__ import annotations

from events.i18n import N_, catalogues

WORDS = {
    "you_are": N_("You are"),
    # Translators: the sandbox page: what a person is in the sample community.
    "host": N_("host"),
    "member": N_("member"),
    "bot_chat": N_("private chat with the bot"),
    "group_chat": N_("the community's group"),
    "clock": N_("The bot's time"),
    "hour": N_("+1 hour"),
    "day": N_("+1 day"),
    # Translators: the sandbox page: moves the bot's clock to the next message it will send.
    "next": N_("Next reminder"),
    "nothing_due": N_("Nothing is waiting to be sent."),
    "moved": N_("The clock moved forward."),
    "reset": N_("Start over"),
    "reset_confirm": N_(
        "Start over? Everything done here is wiped and the sample community comes back."
    ),
    "preparing": N_("Preparing the sandbox…"),
    "placeholder": N_("Write a message"),
    "send": N_("Send"),
    # Translators: the sandbox page: beside the time of a message that was edited.
    "edited": N_("edited"),
    "download": N_("Download"),
    "joined": N_("{name} joined the group"),
    "added": N_("{actor} added {names}"),
    "unreachable": N_("The sandbox does not answer. Is `events sandbox` still running?"),
    "gone": N_("That message or button is no longer there."),
    "failed": N_("That did not work."),
}


def words(locale: str) -> dict[str, str]:
    """Every word of the page in ``locale`` ("id" or "en")."""
    translations = catalogues()[locale]
    return {key: translations.gettext(message) for key, message in WORDS.items()}
