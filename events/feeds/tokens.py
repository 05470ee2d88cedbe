"""Feed tokens: the secret part of a feed's URL.

A token is 32 bytes derived from 32 random bytes (the row's ``seed``) with an HMAC keyed by a
secret that only the running bot holds (derived from its Bot API token). The database keeps the
seed and the token's SHA-256, never the token: a copy of the database opens no feed, while the
bot can show a person their link again in /calendar without storing it. A request is checked by
hashing the token from its URL and looking the hash up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import FeedKind, FeedToken

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


def feed_secret(bot_token: str) -> bytes:
    """The key tokens are derived with; it never leaves the process."""
    return hashlib.sha256(b"events feed tokens\0" + bot_token.encode()).digest()


def derive(secret: bytes, seed: str) -> str:
    digest = hmac.new(secret, bytes.fromhex(seed), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    return TOKEN_PATTERN.fullmatch(token) is not None


async def find(session: AsyncSession, token: str) -> FeedToken | None:
    """The live row of a token from a URL, or None (malformed, unknown, revoked alike)."""
    if not well_formed(token):
        return None
    return await session.scalar(
        select(FeedToken).where(
            FeedToken.token_hash == token_hash(token), FeedToken.revoked_at.is_(None)
        )
    )


def _owner(kind: FeedKind, owner_id: int) -> object:
    column = FeedToken.person_id if kind is FeedKind.PERSONAL else FeedToken.community_id
    return column == owner_id


async def _live(session: AsyncSession, kind: FeedKind, owner_id: int) -> list[FeedToken]:
    rows = await session.scalars(
        select(FeedToken)
        .where(FeedToken.kind == kind, _owner(kind, owner_id), FeedToken.revoked_at.is_(None))
        .order_by(FeedToken.id.desc())
    )
    return list(rows)


async def _issue(
    session: AsyncSession,
    secret: bytes,
    kind: FeedKind,
    owner_id: int,
    *,
    choices: FeedToken | None,
) -> tuple[FeedToken, str]:
    """A new token; ``choices`` is the row whose discreet and all-events choices it keeps."""
    seed = secrets.token_bytes(32).hex()
    token = derive(secret, seed)
    row = FeedToken(
        kind=kind,
        person_id=owner_id if kind is FeedKind.PERSONAL else None,
        community_id=owner_id if kind is FeedKind.COMMUNITY else None,
        token_hash=token_hash(token),
        seed=seed,
        discreet=bool(choices and choices.discreet),
        all_events=bool(choices and choices.all_events),
    )
    session.add(row)
    await session.flush()
    return row, token


async def _revoke(session: AsyncSession, rows: list[FeedToken], now: datetime) -> None:
    if rows:
        await session.execute(
            update(FeedToken)
            .where(FeedToken.id.in_([row.id for row in rows]))
            .values(revoked_at=now)
        )


async def current(
    session: AsyncSession, secret: bytes, kind: FeedKind, owner_id: int, now: datetime
) -> tuple[FeedToken, str]:
    """The owner's live token (created on first use) and its secret value."""
    live = await _live(session, kind, owner_id)
    if live and hmac.compare_digest(token_hash(derive(secret, live[0].seed)), live[0].token_hash):
        await _revoke(session, live[1:], now)
        return live[0], derive(secret, live[0].seed)
    # None yet, or the bot's secret changed since (its token was replaced): a new link.
    await _revoke(session, live, now)
    return await _issue(session, secret, kind, owner_id, choices=live[0] if live else None)


async def renew(
    session: AsyncSession, secret: bytes, kind: FeedKind, owner_id: int, now: datetime
) -> tuple[FeedToken, str]:
    """A new link: the old one stops working at once; the discreet and all-events choices
    carry over."""
    live = await _live(session, kind, owner_id)
    await _revoke(session, live, now)
    return await _issue(session, secret, kind, owner_id, choices=live[0] if live else None)


async def forget(session: AsyncSession, person_id: int) -> None:
    """Remove a person's feed tokens (for /forget): their feed URLs answer 404 from now on."""
    await session.execute(delete(FeedToken).where(FeedToken.person_id == person_id))
