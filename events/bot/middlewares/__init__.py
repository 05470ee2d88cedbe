"""Update middlewares: the transaction, the person acting and their language."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.middlewares.isolation import Isolation
from events.bot.middlewares.locale import LocaleMiddleware
from events.bot.middlewares.metrics import CountUpdates
from events.bot.middlewares.once import OncePerUpdate
from events.bot.middlewares.person import PersonMiddleware
from events.bot.middlewares.transaction import TransactionMiddleware
from events.i18n import CatalogueI18n


def setup_middlewares(
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    i18n: CatalogueI18n,
    isolation: BaseEventIsolation | None = None,
) -> TransactionMiddleware:
    """Order matters: the transaction wraps the person's row, which decides the language, and
    the wizard's state (aiogram's FSM middleware, so the dispatcher is built with
    ``disable_fsm=True``): everything an update reads and writes is in its one transaction, and
    its first statement marks the update as processed (a second delivery does nothing).
    ``isolation`` (one update at a time per person and chat) is taken around all of it, outside
    the transaction."""
    if isolation is not None:
        dispatcher.update.outer_middleware(Isolation(dispatcher.fsm, isolation))
    transactions = TransactionMiddleware(sessions, i18n)
    # Around everything of ours: an update fails if its commit or its replies do. Answers to
    # one event wait in line and are taken together (events/bot/middlewares/taps.py).
    dispatcher.update.outer_middleware(CountUpdates())
    dispatcher.update.outer_middleware(transactions)
    dispatcher.update.outer_middleware(OncePerUpdate())
    dispatcher.update.outer_middleware(PersonMiddleware())
    dispatcher.update.outer_middleware(LocaleMiddleware(i18n))
    dispatcher.update.outer_middleware(dispatcher.fsm)
    return transactions
