"""The bot's web server: health and calendar feeds; webhooks join it later."""

from __future__ import annotations

from aiohttp import web

from events.feeds.web import Feeds
from events.web.health import HEALTH_KEY, Health, healthz


def build_web_app(health: Health, feeds: Feeds | None = None) -> web.Application:
    app = web.Application()
    app[HEALTH_KEY] = health
    app.router.add_get("/healthz", healthz)
    if feeds is not None:
        feeds.register(app)
    return app
