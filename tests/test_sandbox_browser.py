"""The sandbox page in a real headless Chromium (Debian's `chromium`, driven by Playwright), used
the way a person would, in Indonesian: Ayu creates an event with the wizard, Dewi taps Hadir on
its group post and sees the count change, the clock goes to the next reminder and it arrives.

The picture in docs/sandbox.png comes from this test: with EVENTS_TEST_SCREENSHOTS=1 it writes
there, otherwise into the test's temporary folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from events.sandbox import Sandbox, serve
from tests.e2e.conftest import free_port
from tests.services import command, python_module

DOCS = Path(__file__).resolve().parent.parent / "docs"
TITLE = "Lingkar Cerita Malam"
WAIT = 15_000  # milliseconds a step may take to show (the bot answers a chat once a second)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def playwright() -> Any:
    """Playwright's async API, waiting up to WAIT for what a test expects to see."""
    module = python_module("playwright.async_api", "playwright")
    module.expect.set_options(timeout=WAIT)
    return module


@pytest.fixture
async def page(playwright: Any, tmp_path: Path) -> AsyncIterator[Any]:
    """The sandbox's page in headless Chromium, as Ayu in her chat with the bot."""
    chromium = command("chromium", "chromium")
    sandbox = Sandbox(tmp_path / "sandbox.db", bot_port=free_port())
    runner = await serve(sandbox, 0)
    try:
        await sandbox.start()
        async with playwright.async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                tab = await browser.new_page(viewport={"width": 1280, "height": 800})
                tab.set_default_timeout(WAIT)
                await tab.goto(f"http://127.0.0.1:{runner.addresses[0][1]}/sandbox#ayu/bot")
                await playwright.expect(tab.locator("#overlay")).to_be_hidden()
                yield tab
            finally:
                await browser.close()
    finally:
        await sandbox.stop()
        await runner.cleanup()


def expect(locator: Any) -> Any:
    return python_module("playwright.async_api", "playwright").expect(locator)


async def type_in(page: Any, text: str) -> None:
    await page.locator("#text").fill(text)
    await page.locator("#text").press("Enter")


async def last_bot_message_says(page: Any, text: str) -> None:
    await expect(page.locator(".entry.bot").last).to_contain_text(text)


async def tap(page: Any, label: str) -> None:
    """Tap a button of the bot's latest message."""
    await page.locator(".entry.bot").last.get_by_role("button", name=label, exact=True).click()


async def test_host_publishes_member_goes_and_the_reminder_arrives(
    page: Any, tmp_path: Path
) -> None:
    await expect(page.locator("#forward-next")).to_contain_text("Pengingat berikutnya")

    # Ayu, the host, creates an event by chatting with the bot.
    await type_in(page, "/new")
    await last_bot_message_says(page, "Acara apa")
    await tap(page, "Webinar")
    await last_bot_message_says(page, "judulnya")
    await type_in(page, TITLE)
    await last_bot_message_says(page, "Ceritakan")
    await type_in(page, "Ruang aman untuk berbagi cerita sebelum tidur.")
    await last_bot_message_says(page, "zona waktu")
    await tap(page, "WIB")
    await last_bot_message_says(page, "Kapan mulainya")
    await type_in(page, "besok 19.00")
    await last_bot_message_says(page, "benar?")
    await tap(page, "Ya, benar")
    await last_bot_message_says(page, "Berapa lama")
    await tap(page, "1 jam")
    await last_bot_message_says(page, "Di mana")
    await tap(page, "Online")
    await last_bot_message_says(page, "tautan")
    await type_in(page, "https://meet.example.org/cerita-malam")
    await last_bot_message_says(page, "Berapa orang")
    await tap(page, "Tanpa batas")
    await last_bot_message_says(page, "berulang")
    await tap(page, "Tidak berulang")
    await last_bot_message_says(page, "Begini anggota")
    await tap(page, "Terbitkan")
    await last_bot_message_says(page, "Diterbitkan di Lingkar Tenang")

    # Dewi, a member, finds the post in the group and taps Hadir; the count goes up.
    await page.locator("#people").get_by_role("tab", name=re.compile("^Dewi")).click()
    await page.locator("#chats").get_by_role("button", name=re.compile("^Lingkar Tenang")).click()
    post = page.locator(".entry", has_text=TITLE)
    await expect(post).to_contain_text("Hadir: 0")
    await post.get_by_role("button", name="Hadir", exact=True).click()
    await expect(page.locator("#toast")).to_be_visible()
    await expect(post).to_contain_text("Hadir: 1")

    # The clock goes to the next reminder; Dewi's private chat shows it.
    await page.locator("#forward-next").click()
    await expect(page.locator("#toast")).to_contain_text("Jam sudah dimajukan")
    await page.locator("#chats").get_by_role("button", name=re.compile("^Events")).click()
    reminder = page.locator(".entry.bot", has_text="⏰").last
    await expect(reminder).to_contain_text(re.compile(f"{TITLE} dimulai (besok|dalam 1 jam)"))
    await expect(reminder.get_by_role("button", name="Tidak bisa datang")).to_be_visible()

    folder = DOCS if os.environ.get("EVENTS_TEST_SCREENSHOTS") == "1" else tmp_path
    await expect(page.locator("#toast")).to_be_hidden()
    await page.screenshot(path=str(folder / "sandbox.png"))
    assert (folder / "sandbox.png").read_bytes().startswith(b"\x89PNG")


async def test_start_over_wipes_what_was_done(page: Any) -> None:
    await page.locator("#people").get_by_role("tab", name=re.compile("^Dewi")).click()
    await page.locator("#chats").get_by_role("button", name=re.compile("^Lingkar Tenang")).click()
    await type_in(page, "Halo semuanya, aku Dewi.")
    said = page.locator(".entry.mine", has_text="Halo semuanya")
    await expect(said).to_have_count(1)
    clock = page.locator("#clock")
    before = await clock.text_content()
    await page.locator("#forward-day").click()
    await expect(clock).not_to_have_text(before or "")
    moved = await clock.text_content()
    asked: list[str] = []

    async def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await page.locator("#reset").click()
    await expect(said).to_have_count(0)
    await expect(page.locator("#overlay")).to_be_hidden()
    await expect(page.locator(".entry", has_text="Mengelola Rasa Cemas")).to_have_count(1)
    await expect(clock).not_to_have_text(moved or "")
    assert asked == [
        "Mulai ulang? Semua yang dilakukan di sini dihapus dan komunitas contoh kembali seperti "
        "semula."
    ]
