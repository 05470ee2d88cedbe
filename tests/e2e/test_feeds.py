"""Calendar feeds end to end: /calendar gives links, the bot's web server serves them."""

from __future__ import annotations

import gzip
import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp
import icalendar
import pytest
from multidict import CIMultiDict
from sqlalchemy import update

from events.app import App
from events.bot.callbacks import CalendarAction, CalendarCallback
from events.db.models import Event, EventStatus, Place, Rsvp, RsvpStatus
from events.emulator import BotAPIEmulator, Message, Person
from tests.e2e.conftest import BOT_USERNAME, CommunitySetup
from tests.e2e.publishing import LINK, publish

URL = re.compile(r"(?:https?|webcal)://\S+")


async def start(*people: Person) -> None:
    """The people open a private chat with the bot (which then knows them)."""
    for person in people:
        await person.send("/start")
        await person.wait_for_message()


async def answer(app: App, event_id: int, person: Person, status: RsvpStatus) -> None:
    async with app.sessions() as session, session.begin():
        session.add(Rsvp(event_id=event_id, person_id=person.id, status=status, position=1))


def links(message: Message) -> list[str]:
    return URL.findall(message.text)


def local(app: App, url: str) -> str:
    """The feed's URL on the running server (the test's public URL names port 0)."""
    return f"http://127.0.0.1:{app.http_port}{urlsplit(url).path}"


async def fetch(
    app: App, url: str, headers: dict[str, str] | None = None
) -> tuple[int, CIMultiDict[str], bytes]:
    async with (
        aiohttp.ClientSession() as client,
        client.get(local(app, url), headers=headers or {}) as response,
    ):
        return response.status, response.headers.copy(), await response.read()


def titles(data: bytes) -> list[str]:
    calendar = icalendar.Calendar.from_ical(data)
    return sorted(str(event["SUMMARY"]) for event in calendar.walk("VEVENT"))


async def open_calendar(person: Person) -> Message:
    await person.send("/calendar")
    return await person.wait_for_message(contains="webcal://")


async def test_a_persons_feed_from_calendar_to_http(
    emulator: BotAPIEmulator,
    bot: App,
    community: CommunitySetup,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    going = await publish(bot, emulator, community.id, title="Lingkar Dukungan")
    maybe = await publish(
        bot, emulator, community.id, title="Cemas, sedih; lalu?", place=Place.BOTH
    )
    declined = await publish(bot, emulator, community.id, title="Kelas Menulis")
    await publish(bot, emulator, community.id, title="Tidak dijawab")
    dewi, sam = community.member, community.english_member
    await start(dewi, sam)
    await answer(bot, going.id, dewi, RsvpStatus.GOING)
    await answer(bot, maybe.id, dewi, RsvpStatus.MAYBE)
    await answer(bot, declined.id, dewi, RsvpStatus.DECLINED)
    await answer(bot, declined.id, sam, RsvpStatus.GOING)

    shown = await open_calendar(dewi)
    feed, apple, google = links(shown)[:3]
    assert feed.startswith(bot.settings.public_url + "/feeds/")
    assert feed.endswith(".ics")
    assert apple == "webcal://" + feed.split("://", 1)[1]
    assert google.startswith("https://calendar.google.com/calendar/r?cid=")
    assert unquote(parse_qs(urlsplit(google).query)["cid"][0]) == apple
    assert shown.button_texts == ["Tautan baru", "Judul samaran", "Semua acara komunitasku"]
    token = urlsplit(feed).path.removeprefix("/feeds/").removesuffix(".ics")

    status, headers, body = await fetch(bot, feed)
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["Cache-Control"].startswith("private")
    assert titles(body) == ["Cemas, sedih; lalu?", "Lingkar Dukungan"]
    assert LINK.encode() not in body
    for name in ("Dewi", "Sam", "Rina", "Ayu"):
        assert name.encode() not in body
    assert f"event-{going.id}@127.0.0.1".encode() in body
    assert f"https://t.me/{BOT_USERNAME}?start=e{going.id}".encode() in body

    # Compressed when asked, the same bytes inside; HEAD gives the headers only.
    status, _zipped_headers, zipped = await fetch(bot, feed, {"Accept-Encoding": "identity"})
    assert (status, zipped) == (200, body)
    async with aiohttp.ClientSession(auto_decompress=False) as client:
        async with client.get(local(bot, feed), headers={"Accept-Encoding": "gzip"}) as raw:
            assert raw.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(await raw.read()) == body
        async with client.head(local(bot, feed)) as head:
            assert head.status == 200
            assert head.headers["ETag"] == headers["ETag"]
            assert await head.read() == b""

    # Unchanged: 304 for the same ETag; the same bytes again.
    tag = headers["ETag"]
    status, headers, again = await fetch(bot, feed, {"If-None-Match": tag})
    assert (status, again) == (304, b"")
    assert (await fetch(bot, feed))[2] == body

    # An edit: SEQUENCE up, ETag changed.
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(Event)
            .where(Event.id == going.id)
            .values(title="Lingkar Dukungan (ruang baru)", revision=Event.revision + 1)
        )
    status, headers, edited = await fetch(bot, feed, {"If-None-Match": tag})
    assert status == 200
    assert headers["ETag"] != tag
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(edited).walk("VEVENT")}
    assert int(events[f"event-{going.id}@127.0.0.1"]["SEQUENCE"]) == 1
    assert "Lingkar Dukungan (ruang baru)" in titles(edited)

    # A cancelled event stays, marked.
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(Event).where(Event.id == maybe.id).values(status=EventStatus.CANCELLED)
        )
    assert "Dibatalkan: Cemas, sedih; lalu?" in titles((await fetch(bot, feed))[2])

    # Discreet titles: nothing but a neutral title.
    tap = await dewi.tap(shown, "Judul samaran")
    assert tap.text == "Judul samaran aktif."
    await dewi.wait_for_edit(shown, predicate=lambda m: "✅ Judul samaran" in m.button_texts)
    discreet = (await fetch(bot, feed))[2]
    assert set(titles(discreet)) == {"Sesi komunitas", "Dibatalkan: Sesi komunitas"}
    assert b"Lingkar" not in discreet
    assert b"Rumah Teduh" not in discreet

    # New link: the old one is gone, exactly like a page that never existed.
    tap = await dewi.tap(shown, "Tautan baru")
    assert tap.text == "Tautan baru dibuat. Tautan lama tidak berlaku lagi."
    await dewi.wait_for_edit(shown, predicate=lambda m: feed not in m.text)
    new_feed = links(shown)[0]
    assert new_feed != feed
    missing = await fetch(bot, bot.settings.public_url + "/no/such/page")
    old = await fetch(bot, feed)
    assert old[0] == missing[0] == 404
    assert old[2] == missing[2]
    assert old[1]["Content-Type"] == missing[1]["Content-Type"]
    status, _headers, renewed = await fetch(bot, new_feed)
    assert status == 200
    assert set(titles(renewed)) == {"Sesi komunitas", "Dibatalkan: Sesi komunitas"}

    new_token = urlsplit(new_feed).path.removeprefix("/feeds/").removesuffix(".ics")
    for secret in (token, new_token):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/not-a-token.ics",
        "/feeds/" + "A" * 43 + ".ics",
        "/feeds/c/" + "A" * 43 + ".ics",
        "/feeds/" + "A" * 200 + ".ics",
        "/events/1/" + "A" * 43 + ".ics",
        "/feeds/%00%27.ics",
    ],
)
async def test_a_bad_token_is_a_missing_page(bot: App, path: str) -> None:
    missing = await fetch(bot, "http://x/not/here")
    status, headers, body = await fetch(bot, "http://x" + path)
    assert (status, body) == (missing[0], missing[2]) == (404, missing[2])
    assert headers["Content-Type"] == missing[1]["Content-Type"]


async def test_admins_get_the_community_feed_and_members_do_not(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    first = await publish(bot, emulator, community.id, title="Lingkar Dukungan")
    await publish(bot, emulator, community.id, title="Kelas Menulis")
    shown = await open_calendar(community.admin)
    assert "Lingkar Tenang" in shown.text
    community_feed = next(url for url in links(shown) if "/feeds/c/" in url)
    status, headers, body = await fetch(bot, community_feed)
    assert status == 200
    assert titles(body) == ["Kelas Menulis", "Lingkar Dukungan"]
    assert LINK.encode() not in body

    member = await open_calendar(community.member)
    assert not any("/feeds/c/" in url for url in links(member))
    assert member.button_texts == ["Tautan baru", "Judul samaran", "Semua acara komunitasku"]

    # The community's token opens one of its events as a file of its own.
    token = urlsplit(community_feed).path.removeprefix("/feeds/c/").removesuffix(".ics")
    status, headers, body = await fetch(bot, f"http://x/events/{first.id}/{token}.ics")
    assert status == 200
    assert titles(body) == ["Lingkar Dukungan"]
    assert headers["Content-Disposition"] == f'attachment; filename="event-{first.id}.ics"'

    # The community's link got out: a new one, the old one is gone.
    assert shown.button_texts == [
        "Tautan baru",
        "Judul samaran",
        "Semua acara komunitasku",
        "Tautan baru: Lingkar Tenang",
    ]
    personal = links(shown)[0]
    tap = await community.admin.tap(shown, "Tautan baru: Lingkar Tenang")
    assert tap.text == "Tautan baru dibuat. Tautan lama tidak berlaku lagi."
    await community.admin.wait_for_edit(shown, predicate=lambda m: community_feed not in m.text)
    renewed = next(url for url in links(shown) if "/feeds/c/" in url)
    assert (await fetch(bot, community_feed))[0] == 404
    assert (await fetch(bot, renewed))[0] == 200
    assert links(shown)[0] == personal  # the admin's own feed is untouched


async def test_calendar_in_english(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, title="Support circle")
    sam = community.english_member
    await start(sam)
    await answer(bot, event.id, sam, RsvpStatus.GOING)
    shown = await open_calendar(sam)
    assert shown.button_texts == ["New link", "Discreet titles", "All my communities' events"]
    status, _headers, body = await fetch(bot, links(shown)[0])
    assert status == 200
    assert titles(body) == ["Support circle"]
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["X-WR-CALNAME"]) == "Community events"


async def test_add_to_calendar_sends_the_events_file(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, title="Lingkar Dukungan")
    dewi = community.member
    shown = await open_calendar(dewi)
    # The card's button (on the card once it has one), as its callback data.
    add = CalendarCallback(action=CalendarAction.ADD, event_id=event.id).pack()
    await dewi.tap(shown, "Tautan baru", data=add)
    sent = await dewi.wait_for_message(predicate=lambda m: m.document is not None)
    assert sent.document is not None
    assert sent.document.file_name == f"event-{event.id}.ics"
    assert sent.protect_content
    assert titles(sent.document.content) == ["Lingkar Dukungan"]
    assert LINK.encode() not in sent.document.content
    (google,) = [button.url for row in sent.buttons for button in row]
    assert google is not None
    assert google.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE")
    assert "meet.example.org" not in google


async def test_a_token_opens_only_what_its_feed_may_show(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    answered = await publish(bot, emulator, community.id, title="Lingkar Dukungan")
    other = await publish(bot, emulator, community.id, title="Kelas Menulis")
    dewi = community.member
    await start(dewi)
    await answer(bot, answered.id, dewi, RsvpStatus.MAYBE)
    feed = links(await open_calendar(dewi))[0]
    token = urlsplit(feed).path.removeprefix("/feeds/").removesuffix(".ics")
    missing = await fetch(bot, "http://x/not/here")

    status, headers, body = await fetch(bot, f"http://x/events/{answered.id}/{token}.ics")
    assert status == 200
    assert titles(body) == ["Lingkar Dukungan"]
    for path in (
        f"/events/{other.id}/{token}.ics",  # not answered
        f"/events/999999/{token}.ics",  # no such event
        f"/feeds/c/{token}.ics",  # a personal token is no community token
    ):
        status, _headers, body = await fetch(bot, "http://x" + path)
        assert (status, body) == (404, missing[2])

    # If-Modified-Since works too, when there is no ETag to compare.
    status, headers, _body = await fetch(bot, feed)
    since = {"If-Modified-Since": headers["Last-Modified"]}
    assert (await fetch(bot, feed, since))[0] == 304


async def test_add_to_calendar_is_for_members_only(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, title="Lingkar Dukungan")
    stranger = emulator.user("Budi", language_code="id")
    shown = await open_calendar(stranger)
    add = CalendarCallback(action=CalendarAction.ADD, event_id=event.id).pack()
    toast = await stranger.tap(shown, "Tautan baru", data=add)
    assert toast.text == "Tombol ini sudah tidak berlaku."
    await emulator.quiet(0.3)
    assert not [m for m in stranger.bot_messages if m.document is not None]


async def test_all_my_communities_events(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    going = await publish(bot, emulator, community.id, title="Lingkar Dukungan")
    other = await publish(bot, emulator, community.id, title="Kelas Menulis", place=Place.BOTH)
    declined = await publish(bot, emulator, community.id, title="Tidak bisa")
    # A group Dewi is not in: nothing of it ever reaches her feed.
    stranger = emulator.user("Budi", language_code="id")
    elsewhere = emulator.group("Ruang Aman", members=[community.english_member], creator=stranger)
    await emulator.add_bot_to_group(elsewhere, by=stranger)
    await elsewhere.wait_for_message(contains="/addhost")
    hidden = await publish(bot, emulator, elsewhere.id, title="Rahasia Ruang Aman")
    dewi = community.member
    await start(dewi, community.english_member)
    await answer(bot, going.id, dewi, RsvpStatus.GOING)
    await answer(bot, declined.id, dewi, RsvpStatus.DECLINED)
    await answer(bot, hidden.id, community.english_member, RsvpStatus.GOING)

    shown = await open_calendar(dewi)
    assert "“Semua acara komunitasku” mati: kalendermu hanya menampilkan acara" in shown.text
    feed = links(shown)[0]
    token = urlsplit(feed).path.removeprefix("/feeds/").removesuffix(".ics")
    assert titles((await fetch(bot, feed))[2]) == ["Lingkar Dukungan"]
    assert (await fetch(bot, f"http://x/events/{other.id}/{token}.ics"))[0] == 404

    # On: every event of her community, except the one she cannot go to.
    tap = await dewi.tap(shown, "Semua acara komunitasku")
    assert tap.text == "Semua acara komunitasku aktif."
    await dewi.wait_for_edit(
        shown, predicate=lambda m: "✅ Semua acara komunitasku" in m.button_texts
    )
    assert (
        "“Semua acara komunitasku” aktif: kalendermu juga menampilkan semua acara mendatang "
        "dari Lingkar Tenang." in shown.text
    )
    assert "Ruang Aman" not in shown.text
    status, _headers, body = await fetch(bot, feed)
    assert status == 200
    assert titles(body) == ["Kelas Menulis", "Lingkar Dukungan"]
    assert b"Rumah Teduh" in body  # shown as the community feed shows it
    assert LINK.encode() not in body
    assert b"Ruang Aman" not in body
    for name in ("Dewi", "Sam", "Rina", "Ayu", "Budi"):
        assert name.encode() not in body
    assert (await fetch(bot, f"http://x/events/{other.id}/{token}.ics"))[0] == 200
    for event_id in (declined.id, hidden.id):
        assert (await fetch(bot, f"http://x/events/{event_id}/{token}.ics"))[0] == 404

    # Together with discreet titles: neutral titles only.
    await dewi.tap(shown, "Judul samaran")
    await dewi.wait_for_edit(shown, predicate=lambda m: "✅ Judul samaran" in m.button_texts)
    discreet = (await fetch(bot, feed))[2]
    assert titles(discreet) == ["Sesi komunitas", "Sesi komunitas"]
    for word in (b"Lingkar", b"Kelas", b"Rumah Teduh", b"Ruang Aman"):
        assert word not in discreet

    # A new link keeps both choices.
    await dewi.tap(shown, "Tautan baru")
    await dewi.wait_for_edit(shown, predicate=lambda m: feed not in m.text)
    assert shown.button_texts == [
        "Tautan baru",
        "✅ Judul samaran",
        "✅ Semua acara komunitasku",
    ]
    renewed = links(shown)[0]
    assert (await fetch(bot, feed))[0] == 404
    assert titles((await fetch(bot, renewed))[2]) == ["Sesi komunitas", "Sesi komunitas"]

    # Off again: only her own.
    tap = await dewi.tap(shown, "✅ Semua acara komunitasku")
    assert tap.text == "Semua acara komunitasku mati."
    await dewi.wait_for_edit(shown, predicate=lambda m: "Semua acara komunitasku" in m.button_texts)
    assert titles((await fetch(bot, renewed))[2]) == ["Sesi komunitas"]
    await dewi.tap(shown, "✅ Judul samaran")
    await dewi.wait_for_edit(shown, predicate=lambda m: "Judul samaran" in m.button_texts)
    assert titles((await fetch(bot, renewed))[2]) == ["Lingkar Dukungan"]


async def test_a_host_gets_all_events_and_leaving_the_group_ends_them(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    await publish(bot, emulator, community.id, title="Support circle")
    await publish(bot, emulator, community.id, title="Writing class")
    emma = community.english_host  # a host: her community counts without any answer
    shown = await open_calendar(emma)
    assert "“All my communities' events” is off" in shown.text
    feed = links(shown)[0]
    assert titles((await fetch(bot, feed))[2]) == []
    tap = await emma.tap(shown, "All my communities' events")
    assert tap.text == "All my communities' events on."
    await emma.wait_for_edit(
        shown, predicate=lambda m: "✅ All my communities' events" in m.button_texts
    )
    assert (
        "“All my communities' events” is on: your calendar also shows every upcoming event of "
        "Lingkar Tenang." in shown.text
    )
    status, _headers, body = await fetch(bot, feed)
    assert status == 200
    assert titles(body) == ["Support circle", "Writing class"]
    assert str(icalendar.Calendar.from_ical(body)["X-WR-CALNAME"]) == "Community events"

    # Dewi answered one event, then left the group: once the bot knows, the rest is gone.
    dewi = community.member
    going = await publish(bot, emulator, community.id, title="Lingkar Dukungan")
    await start(dewi)
    await answer(bot, going.id, dewi, RsvpStatus.GOING)
    mine = await open_calendar(dewi)
    await dewi.tap(mine, "Semua acara komunitasku")
    await dewi.wait_for_edit(
        mine, predicate=lambda m: "✅ Semua acara komunitasku" in m.button_texts
    )
    dewi_feed = links(mine)[0]
    assert titles((await fetch(bot, dewi_feed))[2]) == [
        "Lingkar Dukungan",
        "Support circle",
        "Writing class",
    ]
    await community.group.leave(dewi)
    bot.clock.advance(timedelta(minutes=2))  # past what the bot keeps from Telegram
    again = await open_calendar(dewi)
    assert "“Semua acara komunitasku” aktif, tapi belum ada komunitas yang terhitung" in again.text
    assert titles((await fetch(bot, dewi_feed))[2]) == ["Lingkar Dukungan"]
