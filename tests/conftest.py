"""Shared test set-up: no developer's settings leak into a test."""

from __future__ import annotations

import os

import pytest

# What the test suite itself reads (services to use, whether they are required).
TEST_VARIABLES = ("EVENTS_TEST_", "EVENTS_REQUIRE_SERVICES")


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("EVENTS_") and not name.startswith(TEST_VARIABLES):
            monkeypatch.delenv(name)
