"""The bot's web server: health now; feeds and webhooks join it later."""

from __future__ import annotations

from aiohttp import web

from events.web.health import HEALTH_KEY, Health, healthz


def build_web_app(health: Health) -> web.Application:
    app = web.Application()
    app[HEALTH_KEY] = health
    app.router.add_get("/healthz", healthz)
    return app
