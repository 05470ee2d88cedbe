"""The one place that sends messages to people: ledger, renderers, limits, sender, progress.

See docs/delivery.md.
"""

from events.delivery.ledger import enqueue, enqueue_many
from events.delivery.limits import ChatKind, InMemoryLimiter, Limiter, Permit, RateLimits
from events.delivery.render import OutgoingMessage, Renderer, key_kind
from events.delivery.sender import SendPolicy
from events.delivery.service import Delivery

__all__ = [
    "ChatKind",
    "Delivery",
    "InMemoryLimiter",
    "Limiter",
    "OutgoingMessage",
    "Permit",
    "RateLimits",
    "Renderer",
    "SendPolicy",
    "enqueue",
    "enqueue_many",
    "key_kind",
]
