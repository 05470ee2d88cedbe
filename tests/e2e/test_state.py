"""The wizard's state lives in the database: a restart of the bot keeps it."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext

from events.app import App
from events.emulator import BotAPIEmulator, Person
from tests.e2e.conftest import StartBot


def state_of(app: App, person: Person) -> FSMContext:
    return app.dispatcher.fsm.get_context(app.bot, chat_id=person.id, user_id=person.id)


async def test_state_and_data_survive_a_restart(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    dewi = emulator.user("Dewi", language_code="id")
    first = await start_bot()
    await state_of(first, dewi).set_state("Somewhere:step")
    await state_of(first, dewi).update_data(title="Ruang Aman", capacity=20)

    first.stop()
    await emulator.wait_until(lambda: not first.health.receiving)
    second = await start_bot()

    assert await state_of(second, dewi).get_state() == "Somewhere:step"
    assert await state_of(second, dewi).get_data() == {"title": "Ruang Aman", "capacity": 20}
    # Her next update reads that state inside its own transaction, and is answered.
    await dewi.send("/start")
    assert (await dewi.wait_for_message()).text.startswith("Halo, Dewi!")
