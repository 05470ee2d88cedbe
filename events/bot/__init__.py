"""Telegram I/O: routers, middlewares, keyboards and callback data."""
