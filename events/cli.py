"""`events run | sandbox | db upgrade`: wiring only."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from events.config import ENV_PREFIX, ConfigError, Settings, load_settings

EXIT_CONFIG = 2
EXIT_FAILURE = 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="events",
        description="A Telegram bot for the workshops, webinars and Q&A sessions of communities.",
        epilog="Settings come from EVENTS_* environment variables or a .env file; see README.md.",
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run = commands.add_parser(
        "run",
        help="bring the database up to date, then run the bot, its web server and scheduler",
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates at EVENTS_WEBHOOK_URL (with EVENTS_WEBHOOK_SECRET) on the web "
        "server instead of long polling; several processes may serve one bot this way",
    )
    sandbox = commands.add_parser(
        "sandbox",
        help="try the whole bot in a browser, without Telegram or a token",
        description="Runs, on 127.0.0.1 only, a Bot API emulator, the bot with a sample "
        "community and a chat page at http://127.0.0.1:PORT/sandbox; the bot's own web server "
        "(calendar feeds) listens on the next port.",
    )
    sandbox.add_argument(
        "--port",
        type=int,
        help="the page's port (default: EVENTS_HTTP_PORT, else 8080)",
    )
    sandbox.add_argument(
        "--database",
        type=Path,
        default=Path("sandbox.db"),
        help="the sandbox's own SQLite file, kept between runs with its world beside it "
        "(default: sandbox.db in the current folder)",
    )
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply all database migrations")
    return top


class DatabaseUnavailable(Exception):
    """The database could not be opened or migrated; the message is one line."""


async def _upgrade(settings: Settings) -> None:
    from events.db.migrate import upgrade_to_head

    try:
        await upgrade_to_head(settings.database_url)
    except (DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"cannot use the database of {ENV_PREFIX}DATABASE_URL: {reason}"
        ) from None


async def _run(settings: Settings, *, webhook: bool) -> None:
    from events.app import build_app

    app = build_app(settings, webhook=webhook)
    await _upgrade(settings)
    await app.run()


async def _sandbox(port: int, database: Path) -> None:
    from events.sandbox import Sandbox, serve

    sandbox = Sandbox(database, bot_port=port + 1)
    try:
        runner = await serve(sandbox, port)
    except OSError as exc:
        raise ConfigError(
            f"{ENV_PREFIX}HTTP_PORT/--port: cannot listen on 127.0.0.1:{port} "
            f"({exc.strerror or exc})"
        ) from None
    print(f"events sandbox: open http://127.0.0.1:{port}/sandbox (Ctrl-C stops it)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    starting = asyncio.create_task(sandbox.start())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            try:
                starting.result()
            except ConfigError as exc:  # the port after the page's is taken
                reason = str(exc).partition(": ")[2]
                raise ConfigError(
                    f"the bot's web server (the port after --port) {reason}"
                ) from None
            await stopping
    finally:
        starting.cancel()
        stopping.cancel()
        await asyncio.gather(starting, stopping, return_exceptions=True)
        await sandbox.stop()
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        if args.command == "run":
            settings.token  # noqa: B018 - checked before anything starts
            if args.webhook:
                settings.webhook  # noqa: B018 - so are the webhook's URL and secret
            asyncio.run(_run(settings, webhook=args.webhook))
        elif args.command == "sandbox":
            port = settings.http_port if args.port is None else args.port
            if not 1 <= port <= 65534:
                raise ConfigError("--port must be between 1 and 65534 (the bot takes the next)")
            asyncio.run(_sandbox(port, args.database))
        else:
            asyncio.run(_upgrade(settings))
            print("events: the database is up to date")
    except ConfigError as exc:
        print(f"events: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseUnavailable as exc:
        print(f"events: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
