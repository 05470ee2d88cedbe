"""The command line: configuration mistakes are one line and exit status 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def events(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}
    return subprocess.run(
        [sys.executable, "-m", "events", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = events("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "run" in result.stdout
    assert "db" in result.stdout


def test_run_without_a_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = events("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "events: EVENTS_BOT_TOKEN is not set: put the token from BotFather there"
    ]
    assert not (tmp_path / "events.db").exists()  # nothing was started


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"EVENTS_BOT_TOKEN": "not-a-token"}, "events: EVENTS_BOT_TOKEN does not look like"),
        ({"EVENTS_BOT_TOKEN": "1:x", "EVENTS_HTTP_PORT": "http"}, "events: EVENTS_HTTP_PORT is"),
        (
            {"EVENTS_BOT_TOKEN": "1:x", "EVENTS_DATABASE_URL": "mysql+nothere://x/y"},
            "events: EVENTS_DATABASE_URL cannot be used",
        ),
    ],
)
def test_malformed_settings_exit_2_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = events("run", cwd=tmp_path, **env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "events: EVENTS_WEBHOOK_URL is not set: --webhook needs"),
        (
            {"EVENTS_WEBHOOK_URL": "https://events.example.org/hook"},
            "events: EVENTS_WEBHOOK_SECRET is not set: --webhook needs",
        ),
        (
            {"EVENTS_WEBHOOK_URL": "http://events.example.org/hook", "EVENTS_WEBHOOK_SECRET": "s"},
            "events: EVENTS_WEBHOOK_URL is invalid: 'http://events.example.org/hook' is not",
        ),
    ],
)
def test_run_webhook_without_its_url_or_secret_exits_2_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = events("run", "--webhook", cwd=tmp_path, EVENTS_BOT_TOKEN="1:x", **env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)
    assert not (tmp_path / "events.db").exists()  # nothing was started


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = events("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (tmp_path / "events.db").exists()


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'folder' / 'events.db'}"
    result = events("run", cwd=tmp_path, EVENTS_BOT_TOKEN="1:x", EVENTS_DATABASE_URL=url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "events: cannot use the database of EVENTS_DATABASE_URL: unable to open database file"
    )
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = events(
            "run", cwd=tmp_path, EVENTS_BOT_TOKEN="1:x", EVENTS_HTTP_PORT=str(port),
            EVENTS_TELEGRAM_API_URL="http://127.0.0.1:9",
        )  # fmt: skip
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"events: EVENTS_HTTP_HOST/EVENTS_HTTP_PORT: cannot listen on 127.0.0.1:{port}")
    )
    assert "Traceback" not in result.stderr
