"""Wiring: one function builds the bot, its dispatcher, scheduler and web server; `run` runs them.

`events run` and the in-process tests use the same code.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User
from aiogram.utils.token import TokenValidationError
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from events.bot.announcements import render_announce
from events.bot.cards import render_promotion
from events.bot.checkin import render_checkin
from events.bot.commands import register_menu
from events.bot.membership import Membership
from events.bot.middlewares import setup_middlewares
from events.bot.middlewares.isolation import LocalIsolation
from events.bot.middlewares.once import PRUNE_EVERY_SECONDS, prune_processed_updates
from events.bot.middlewares.transaction import TransactionMiddleware
from events.bot.notices import render_notice
from events.bot.occurrences import Occurrences
from events.bot.posts import InMemoryPostUpdater, PostUpdater
from events.bot.redis_posts import RedisPostUpdater, posts_prefix
from events.bot.reminders import reminder_renderer
from events.bot.routers import get_routers
from events.bot.storage import build_storage, redis_isolation
from events.clock import Clock
from events.config import ENV_PREFIX, ConfigError, Settings
from events.db.changes import Changes
from events.db.engine import create_engine, create_sessionmaker
from events.delivery import Delivery, InMemoryLimiter, Limiter, RateLimits, SendPolicy
from events.delivery.redis_limits import RedisLimiter, limits_prefix
from events.feeds.tokens import feed_secret
from events.feeds.web import FEED_TABLES, Feeds, username_of
from events.i18n import CatalogueI18n, build_i18n
from events.scheduling import build_scheduler
from events.web import build_web_app
from events.web.health import Health
from events.web.metrics import MetricsPage
from events.web.webhook import WebhookHandler

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

# CONTRACT §1: the updates the bot handles; asked for explicitly so none is dropped.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "chat_member"]
POLLING_TIMEOUT = 10  # seconds a getUpdates call waits for news
DRAIN_TIMEOUT = 10.0  # seconds the shutdown waits for updates being handled
PRUNE_JOB = "processed-updates:prune"


def settle_heap() -> None:
    """Take what was built to start (modules, the dispatcher, the caches: it lives as long as
    the process) out of the garbage collector's full collections, which otherwise walk all of
    it again and again while a burst of updates allocates (a burst of taps ran at half speed;
    docs/benchmarks.md). Undone with ``gc.unfreeze()`` when updates stop coming."""
    gc.collect()
    gc.freeze()


@dataclass
class App:
    settings: Settings
    clock: Clock
    bot: Bot
    dispatcher: Dispatcher
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    i18n: CatalogueI18n
    scheduler: AsyncIOScheduler
    web: web.Application
    health: Health
    transactions: TransactionMiddleware
    delivery: Delivery
    posts: PostUpdater | None = None  # keeps group posts' counts current
    occurrences: Occurrences | None = None  # creates the occurrences of recurring events
    webhook: WebhookHandler | None = None  # updates come by webhook (`run --webhook`), not polling
    metrics: MetricsPage | None = None  # GET /metrics, with EVENTS_METRICS_TOKEN only
    redis: Redis | None = None  # with EVENTS_REDIS_URL: state and limits shared by processes
    http_port: int | None = None  # the port the web server listens on, once it does
    _main: asyncio.Task[None] | None = field(default=None, repr=False)
    _unhooked: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _background: set[asyncio.Task[None]] = field(default_factory=set, repr=False)
    _stopping: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self.dispatcher.startup.register(self._on_receiving)
        self.dispatcher.shutdown.register(self._on_receiving_stopped)

    async def _on_receiving(self) -> None:
        settle_heap()
        self.health.receiving = True
        # The menu is a nicety: registering it never delays the first answer.
        self._spawn(register_menu(self.bot, self.i18n))

    async def _on_receiving_stopped(self) -> None:
        self.health.receiving = False
        gc.unfreeze()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def run(self, *, handle_signals: bool = True) -> None:
        """Serve until stopped (SIGINT/SIGTERM, or :meth:`stop`), then shut everything down."""
        self._main = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        runner = web.AppRunner(self.web, access_log=None)
        await runner.setup()
        try:
            host, port = self.settings.http_host, self.settings.http_port
            try:
                await web.TCPSite(runner, host, port).start()
            except OSError as exc:
                raise ConfigError(
                    f"{ENV_PREFIX}HTTP_HOST/{ENV_PREFIX}HTTP_PORT: cannot listen on "
                    f"{host}:{port} ({exc.strerror or exc})"
                ) from None
            self.http_port = runner.addresses[0][1]
            log.info("web server on http://%s:%s", self.settings.http_host, self.http_port)
            self.scheduler.start()
            me = await identify(self.bot, self.settings)
            log.info("running as @%s", me.username)
            if self.webhook is None:
                await drop_webhook(self.bot)
            self._plan_pruning()
            await self.delivery.start()
            if self.occurrences is not None:
                self.occurrences.start()
            if self.webhook is not None:
                await self._serve_webhook()
            else:
                await self.dispatcher.start_polling(
                    self.bot,
                    allowed_updates=ALLOWED_UPDATES,
                    polling_timeout=POLLING_TIMEOUT,
                    handle_signals=False,
                    close_bot_session=False,
                )
        except asyncio.CancelledError:
            log.info("stopping")
        finally:
            if handle_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
            await self._shutdown(runner)

    async def _serve_webhook(self) -> None:
        """Updates arrive on the web server until :meth:`stop`. The webhook stays set when the
        process stops: other processes may be serving it, and Telegram keeps what arrives while
        none is."""
        await set_webhook(self.bot, self.settings)
        log.info("receiving updates by webhook at %s", self.settings.webhook_url)
        workflow = {"dispatcher": self.dispatcher, "bots": [self.bot], "bot": self.bot}
        await self.dispatcher.emit_startup(**self.dispatcher.workflow_data, **workflow)
        try:
            await self._unhooked.wait()
        finally:
            await self.dispatcher.emit_shutdown(**self.dispatcher.workflow_data, **workflow)

    def _plan_pruning(self) -> None:
        self.scheduler.add_job(
            self._prune,
            "interval",
            seconds=PRUNE_EVERY_SECONDS,
            id=PRUNE_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )

    async def _prune(self) -> None:
        try:
            forgotten = await prune_processed_updates(self.sessions, self.clock)
        except Exception as exc:
            log.warning("forgetting old update ids failed (%s); trying again later", exc)
            return
        if forgotten:
            log.info("forgot %d old update ids", forgotten)

    def stop(self) -> None:
        """Ask :meth:`run` to finish: polling stops (or the webhook answers 503 from now on),
        updates in hand are completed."""
        if self._stopping:
            return
        self._stopping = True
        if self.webhook is not None:
            self.webhook.closing = True  # Telegram delivers them again, here or elsewhere
        if self.health.receiving and self.webhook is not None:
            self._unhooked.set()
        elif self.health.receiving:
            self._spawn(self.dispatcher.stop_polling())
        elif self._main is not None and not self._main.done():
            self._main.cancel()  # still starting: nothing to finish

    async def _shutdown(self, runner: web.AppRunner) -> None:
        if not await self.transactions.drain(within=DRAIN_TIMEOUT):
            log.warning("stopped with updates still being handled")
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self.occurrences is not None:
            await self.occurrences.stop()
        if self.posts is not None:
            await self.posts.stop()
        await self.delivery.stop(timeout=DRAIN_TIMEOUT)  # sends in flight finish
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await runner.cleanup()
        await self.bot.session.close()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()
        log.info("stopped")


async def identify(bot: Bot, settings: Settings) -> User:
    """getMe, patiently: a Bot API server that is down is waited for; a wrong token is fatal."""
    delay = 1.0
    while True:
        try:
            return await bot.me()
        except TelegramUnauthorizedError:
            raise ConfigError(
                f"{ENV_PREFIX}BOT_TOKEN was refused by the Bot API server at "
                f"{settings.telegram_api_url} (401 Unauthorized)"
            ) from None
        except TelegramNotFound:
            raise ConfigError(
                f"{ENV_PREFIX}TELEGRAM_API_URL ({settings.telegram_api_url}) does not answer "
                "like a Bot API server (404 for getMe)"
            ) from None
        except (TelegramNetworkError, TelegramServerError) as exc:
            log.warning(
                "cannot reach the Bot API at %s (%s); trying again in %.0f s",
                settings.telegram_api_url,
                exc,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


async def drop_webhook(bot: Bot) -> None:
    """A webhook left behind would make getUpdates fail; pending updates are kept (CONTRACT §1)."""
    try:
        await bot.delete_webhook(drop_pending_updates=False)
    except TelegramAPIError as exc:
        log.warning("deleteWebhook failed (%s); polling anyway", exc)


async def set_webhook(bot: Bot, settings: Settings) -> None:
    """setWebhook with the secret, the update types polling asks for, pending updates kept;
    a URL the server refuses is fatal, a server that does not answer is waited for."""
    url, secret = settings.webhook
    delay = 1.0
    while True:
        try:
            await bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            return
        except TelegramBadRequest as exc:
            raise ConfigError(
                f"{ENV_PREFIX}WEBHOOK_URL ({url}) was refused by the Bot API server: {exc.message}"
            ) from None
        except (TelegramNetworkError, TelegramServerError) as exc:
            log.warning("setWebhook failed (%s); trying again in %.0f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


def build_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    try:
        return Bot(
            settings.token,
            session=session,
            default=DefaultBotProperties(
                parse_mode=ParseMode.HTML,
                link_preview_is_disabled=True,
            ),
        )
    except TokenValidationError:
        raise ConfigError(
            f"{ENV_PREFIX}BOT_TOKEN does not look like a token from BotFather "
            "(digits, a colon, then letters)"
        ) from None


def connect_redis(settings: Settings) -> Redis | None:
    """A client (a connection pool, connected on first use) for ``EVENTS_REDIS_URL``, if set."""
    if settings.redis_url is None:
        return None
    try:
        from redis.asyncio import Redis
    except ImportError:
        raise ConfigError(
            f"{ENV_PREFIX}REDIS_URL is set but the redis package is not installed "
            "(pip install 'events[redis]')"
        ) from None
    try:
        return Redis.from_url(settings.redis_url)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}REDIS_URL cannot be used: {exc}") from None


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    limiter: Limiter | None = None,
    webhook: bool = False,
) -> App:
    """The app; ``limiter`` replaces the one at ``EVENTS_SEND_RATE`` (tests scale it). With
    ``webhook`` updates come to ``EVENTS_WEBHOOK_URL`` instead of long polling. With
    ``EVENTS_REDIS_URL`` the wizard's state, the send limits and the posts' edit gaps are kept
    in Redis, shared by every process of the bot."""
    if webhook:
        settings.webhook  # noqa: B018 - both are needed before anything is built
    clock = clock or Clock()
    bot = build_bot(settings)
    redis = connect_redis(settings)
    try:
        engine = create_engine(settings.database_url)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"{ENV_PREFIX}DATABASE_URL cannot be used: {exc}") from None
    sessions = create_sessionmaker(engine)
    i18n = build_i18n(settings.default_locale)
    health = Health(engine)
    membership = Membership(bot, clock, sessions, owners=settings.admin_ids)
    dispatcher = Dispatcher(
        storage=build_storage(settings, sessions, redis),
        disable_fsm=True,  # setup_middlewares runs it inside the update's transaction
        settings=settings,
        clock=clock,
        sessions=sessions,
        i18n=i18n,
        membership=membership,
    )
    isolation = redis_isolation(redis) if redis is not None else LocalIsolation()
    transactions = setup_middlewares(dispatcher, sessions, i18n, isolation)
    dispatcher.include_routers(*get_routers())
    scheduler = build_scheduler()
    if limiter is None:
        # EVENTS_SEND_RATE counts real seconds; a sped-up server's windows are shorter.
        scale = settings.limits_scale
        limits = RateLimits(per_second=settings.send_rate / scale).scaled(scale)
        if redis is not None:
            limiter = RedisLimiter(redis, limits, prefix=limits_prefix(bot.id))
        else:
            limiter = InMemoryLimiter(limits)
    delivery = Delivery(
        bot=bot,
        sessions=sessions,
        clock=clock,
        scheduler=scheduler,
        i18n=i18n,
        limiter=limiter,
        default_locale=settings.default_locale,
        policy=SendPolicy(lease=timedelta(seconds=settings.delivery_lease)),
    )
    delivery.register("promotion", render_promotion)
    delivery.register("notice", render_notice)
    delivery.register("reminder", reminder_renderer(clock))
    delivery.register("checkin", render_checkin)
    delivery.register("announce", render_announce)
    dispatcher["delivery"] = delivery
    occurrences = Occurrences(
        bot=bot, sessions=sessions, clock=clock, i18n=i18n, scheduler=scheduler
    )
    posts: PostUpdater
    if redis is not None:
        posts = RedisPostUpdater(
            redis=redis,
            bot=bot,
            sessions=sessions,
            i18n=i18n,
            limiter=delivery.limiter,
            prefix=posts_prefix(bot.id),
        )
    else:
        posts = InMemoryPostUpdater(bot=bot, sessions=sessions, i18n=i18n, limiter=delivery.limiter)
    dispatcher["posts"] = posts
    feeds = Feeds(
        sessions=sessions,
        clock=clock,
        secret=feed_secret(settings.token),
        public_url=settings.public_url or f"http://{settings.http_host}:{settings.http_port}",
        bot_username=username_of(bot),
        default_locale=settings.default_locale,
        absent=membership.said_absent,
        # On SQLite this process is the only writer, so it knows when a feed may have changed.
        changes=Changes(engine, FEED_TABLES) if engine.dialect.name == "sqlite" else None,
    )
    dispatcher["feeds"] = feeds
    metrics = (
        MetricsPage(sessions, clock, settings.metrics_token.get_secret_value())
        if settings.metrics_token is not None
        else None
    )
    web_app = build_web_app(health, feeds, metrics)
    handler: WebhookHandler | None = None
    if webhook:
        handler = WebhookHandler(dispatcher, bot, settings.webhook[1])
        handler.register(web_app, path=settings.webhook_path)
    return App(
        settings=settings,
        clock=clock,
        bot=bot,
        dispatcher=dispatcher,
        engine=engine,
        sessions=sessions,
        i18n=i18n,
        scheduler=scheduler,
        web=web_app,
        health=health,
        transactions=transactions,
        delivery=delivery,
        posts=posts,
        occurrences=occurrences,
        webhook=handler,
        metrics=metrics,
        redis=redis,
    )
