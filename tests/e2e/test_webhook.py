"""`events run --webhook`: updates POSTed by Telegram, each applied exactly once.

Telegram delivers at least once: it posts an update again after any answer that is not a 2xx
(a crash, a lost connection, a failure). The bot handles each update before answering, stores
its id in the transaction of its effects, and so applies a second delivery not at all. Answers
never carry a method, and a request without the secret is refused.
"""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from events.app import App
from events.bot.middlewares import person as person_middleware
from events.bot.middlewares.once import KEPT_FOR, prune_processed_updates
from events.db.models import Person, ProcessedUpdate, RsvpStatus
from events.emulator import BotAPIEmulator, Tap, Update
from events.web.webhook import MAX_ATTEMPTS, SECRET_HEADER
from tests.e2e.conftest import CommunitySetup, StartBot, free_port
from tests.e2e.publishing import answers, count_status, publish

SECRET = "lingkar-tenang_webhook-2024"
PATH = "/telegram/webhook"
# An update posted by someone who does not know the secret.
FORGED = {
    "update_id": 987654,
    "message": {
        "message_id": 1,
        "date": 1700000000,
        "chat": {"id": 555000111, "type": "private", "first_name": "Mallory"},
        "from": {"id": 555000111, "is_bot": False, "first_name": "Mallory"},
        "text": "/start",
    },
}
APOLOGY_ID = "Maaf, ada yang salah di pihak kami. Coba lagi sebentar lagi, ya."


@pytest.fixture
async def bot(start_bot: StartBot) -> App:
    port = free_port()
    return await start_bot(
        webhook=True,
        http_port=port,
        webhook_url=f"http://127.0.0.1:{port}{PATH}",
        webhook_secret=SecretStr(SECRET),
    )


def update_of(emulator: BotAPIEmulator, tap: Tap) -> Update:
    return next(
        update
        for update in emulator.updates
        if update.kind == "callback_query" and update.payload["id"] == tap.id
    )


async def processed(app: App, update_id: int | None = None) -> int:
    async with app.sessions() as session:
        query = select(func.count()).select_from(ProcessedUpdate)
        if update_id is not None:
            query = query.where(ProcessedUpdate.update_id == update_id)
        return int(await session.scalar(query) or 0)


def assert_no_method_rode_along(emulator: BotAPIEmulator) -> None:
    answered = [d for d in emulator.webhook_deliveries if d.status is not None]
    assert answered
    for delivery in answered:
        assert delivery.method is None
        if delivery.status == 200:
            assert delivery.body == b"{}"


async def test_start_through_the_webhook_is_answered(emulator: BotAPIEmulator, bot: App) -> None:
    webhook = emulator.world.webhook
    assert webhook.url == f"http://127.0.0.1:{bot.http_port}{PATH}"
    assert webhook.secret_token == SECRET
    (registered,) = emulator.calls_to("setWebhook")
    assert registered.params["drop_pending_updates"] in (False, "false", "False")
    assert emulator.calls_to("getUpdates") == []
    assert emulator.calls_to("deleteWebhook") == []

    dewi = emulator.user("Dewi", language_code="id")
    await dewi.send("/start")
    greeting = await dewi.wait_for_message(contains="Halo")
    assert greeting.text.startswith("Halo, Dewi! 👋")

    await emulator.quiet(0.2)
    assert emulator.pending_updates == []
    assert all(d.ok for d in emulator.webhook_deliveries)
    assert await processed(bot) >= 1
    assert_no_method_rode_along(emulator)

    # Stopping leaves the webhook set: other processes may be serving it.
    bot.stop()
    await emulator.wait_until(lambda: not bot.health.receiving)
    assert emulator.world.webhook.url
    assert emulator.calls_to("deleteWebhook") == []


async def test_a_going_tap_delivered_twice_counts_once(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, capacity=20)
    dewi, sam = community.member, community.english_member

    tap = await dewi.press(event.post, "Hadir")
    await emulator.wait_until(lambda: tap.answered)
    assert tap.answer is not None
    assert tap.answer.text == "Kamu akan hadir. Sampai jumpa!"
    again = await emulator.deliver_again(update_of(emulator, tap))
    assert again.status == 200
    assert again.body == b"{}"

    # A duplicate arriving while the first delivery is still being handled.
    sams = await sam.press(event.post, "Hadir")
    duplicate = await emulator.deliver_again(update_of(emulator, sams))
    assert duplicate.status == 200
    await emulator.wait_until(lambda: sams.answered)
    assert sams.answer is not None
    assert sams.answer.text == "You're going. See you there!"

    await community.group.wait_for_message(
        predicate=lambda m: m.message_id == event.post.message_id and "Hadir: 2 dari 20" in m.text,
        timeout=10,
    )
    await emulator.quiet(0.5)
    assert await count_status(bot, event.id, RsvpStatus.GOING) == 2
    stored = await answers(bot, event.id)
    assert stored[dewi.id][0] is RsvpStatus.GOING
    assert stored[sam.id][0] is RsvpStatus.GOING
    for query in (tap, sams):
        toasts = [
            call
            for call in emulator.calls_to("answerCallbackQuery")
            if call.params.get("callback_query_id") == query.id
        ]
        assert len(toasts) == 1
    post = emulator.message(community.id, event.post.message_id)
    assert post is not None
    assert "Hadir: 2 dari 20" in post.text
    assert "Dewi" not in post.text
    assert "Sam" not in post.text
    assert_no_method_rode_along(emulator)


async def test_a_lost_answer_after_the_commit_applies_the_retry_once(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, capacity=20)
    dewi = community.member

    emulator.lose_webhook_answer()  # the bot committed and answered; Telegram never heard it
    tap = await dewi.press(event.post, "Hadir")
    await emulator.wait_until(lambda: tap.answered)
    update = update_of(emulator, tap)
    await emulator.wait_until(
        lambda: [d for d in emulator.webhook_deliveries if d.update_id == update.update_id][-1].ok
    )

    tries = [d for d in emulator.webhook_deliveries if d.update_id == update.update_id]
    assert [(d.status, d.lost) for d in tries] == [(200, True), (200, False)]
    assert update not in emulator.pending_updates
    await emulator.quiet(0.3)
    assert await count_status(bot, event.id, RsvpStatus.GOING) == 1
    assert await processed(bot, update.update_id) == 1
    toasts = [
        call
        for call in emulator.calls_to("answerCallbackQuery")
        if call.params.get("callback_query_id") == tap.id
    ]
    assert len(toasts) == 1
    assert_no_method_rode_along(emulator)


async def test_a_wrong_secret_is_refused_and_nothing_is_stored(
    emulator: BotAPIEmulator, bot: App
) -> None:
    before = await processed(bot)
    update = FORGED
    url = f"http://127.0.0.1:{bot.http_port}{PATH}"
    async with aiohttp.ClientSession() as client:
        for headers in ({SECRET_HEADER: "not-the-secret"}, {}, {SECRET_HEADER: ""}):
            async with client.post(url, json=update, headers=headers) as response:
                assert response.status == 401
                assert "method" not in await response.text()
        async with client.post(url, data=b"{", headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 400

    await emulator.quiet(0.2)
    assert await processed(bot) == before
    assert await processed(bot, 987654) == 0
    async with bot.sessions() as session:
        assert await session.get(Person, 555000111) is None
    assert emulator.calls_to("sendMessage") == []


async def test_a_failed_update_is_retried_and_apologised_for_once(
    emulator: BotAPIEmulator, bot: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = person_middleware.get_or_create_person
    failures = {"left": 1}

    async def flaky(session, user):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("the database hiccuped")
        return await real(session, user)

    monkeypatch.setattr(person_middleware, "get_or_create_person", flaky)
    dewi = emulator.user("Dewi", language_code="id")
    await dewi.send("/start")
    await dewi.wait_for_message(contains="Halo")
    await emulator.quiet(0.3)

    texts = [m.text for m in dewi.bot_messages]
    assert texts.count(APOLOGY_ID) == 1
    assert sum("Halo, Dewi!" in text for text in texts) == 1
    (update,) = [u for u in emulator.updates if u.kind == "message"]
    tries = [d for d in emulator.webhook_deliveries if d.update_id == update.update_id]
    assert [d.status for d in tries] == [500, 200]
    assert await processed(bot, update.update_id) == 1
    assert_no_method_rode_along(emulator)


async def test_an_update_that_always_fails_is_given_up(
    emulator: BotAPIEmulator, bot: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(session, user):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(person_middleware, "get_or_create_person", broken)
    dewi = emulator.user("Dewi", language_code="id")
    await dewi.send("/start")
    (update,) = [u for u in emulator.updates if u.kind == "message"]
    await emulator.wait_until(lambda: update not in emulator.pending_updates, timeout=10)
    await emulator.quiet(0.3)

    tries = [d for d in emulator.webhook_deliveries if d.update_id == update.update_id]
    assert [d.status for d in tries] == [500] * (MAX_ATTEMPTS - 1) + [200]
    texts = [m.text for m in dewi.bot_messages]
    assert texts == [APOLOGY_ID]  # one apology, not one per delivery
    assert await processed(bot, update.update_id) == 0
    async with bot.sessions() as session:
        assert await session.get(Person, dewi.id) is None


async def test_old_update_ids_are_forgotten(bot: App) -> None:
    now = bot.clock.now()
    async with bot.sessions() as session, session.begin():
        session.add(ProcessedUpdate(update_id=1, processed_at=now - KEPT_FOR - timedelta(hours=1)))
        session.add(ProcessedUpdate(update_id=2, processed_at=now - KEPT_FOR + timedelta(hours=1)))
    forgotten = await prune_processed_updates(bot.sessions, bot.clock)
    # (the prune the bot runs as it starts may have got to the old row first)
    assert forgotten in (0, 1)
    assert await prune_processed_updates(bot.sessions, bot.clock) == 0
    assert await processed(bot, 1) == 0
    assert await processed(bot, 2) == 1
