"""The bot's web server: health, metrics and calendar feeds; webhooks join it later."""

from __future__ import annotations

from aiohttp import web

from events.feeds.web import Feeds
from events.web.health import HEALTH_KEY, Health, healthz
from events.web.metrics import MetricsPage


def build_web_app(
    health: Health, feeds: Feeds | None = None, metrics: MetricsPage | None = None
) -> web.Application:
    app = web.Application()
    app[HEALTH_KEY] = health
    app.router.add_get("/healthz", healthz)
    if metrics is not None:  # /metrics exists only with EVENTS_METRICS_TOKEN
        metrics.register(app)
    if feeds is not None:
        feeds.register(app)
    return app
