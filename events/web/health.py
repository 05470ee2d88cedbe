"""GET /healthz: is the process alive, is its database answering, is it receiving updates."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return version("events")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class Health:
    engine: AsyncEngine
    receiving: bool = False  # polling (or the webhook) is delivering updates
    version: str = field(default_factory=_version)

    async def database_ok(self) -> bool:
        try:
            async with asyncio.timeout(5), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("health check: the database did not answer: %s", exc)
            return False
        return True


HEALTH_KEY = web.AppKey("health", Health)


async def healthz(request: web.Request) -> web.Response:
    health = request.app[HEALTH_KEY]
    database = await health.database_ok()
    body = {
        "status": "ok" if database else "degraded",
        "database": "ok" if database else "unavailable",
        "updates": "receiving" if health.receiving else "starting",
        "version": health.version,
    }
    return web.json_response(body, status=200 if database else 503)
