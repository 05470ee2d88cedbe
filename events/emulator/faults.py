"""Scripted failures: make the Nth (or every) matching call fail the way Telegram can."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import MSG_BLOCKED, ApiError, forbidden, too_many_requests


@dataclass(frozen=True)
class RetryAfter:
    """429 ``Too Many Requests: retry after N`` with ``parameters.retry_after``."""

    seconds: int

    def api_error(self) -> ApiError:
        return too_many_requests(self.seconds)


@dataclass(frozen=True)
class Blocked:
    """403 ``Forbidden: bot was blocked by the user`` (the user is not marked blocked)."""

    def api_error(self) -> ApiError:
        return forbidden(MSG_BLOCKED)


@dataclass(frozen=True)
class ServerError:
    """A 5xx answer with a JSON body."""

    status: int = 502
    description: str = "Bad Gateway"

    def api_error(self) -> ApiError:
        return ApiError(self.status, self.description)


@dataclass(frozen=True)
class Failure:
    """Any Telegram error: status, full description, optional parameters."""

    status: int
    description: str
    parameters: dict[str, Any] | None = None

    def api_error(self) -> ApiError:
        return ApiError(self.status, self.description, self.parameters)


@dataclass(frozen=True)
class Delay:
    """Answer normally but ``seconds`` late (``before=True``: wait before processing)."""

    seconds: float
    before: bool = False


@dataclass(frozen=True)
class Drop:
    """Close the connection without an answer (``after=True``: process the call first)."""

    after: bool = False


FaultError = RetryAfter | Blocked | ServerError | Failure | Delay | Drop


@dataclass(eq=False)
class Fault:
    """One scripted failure and how often it has matched and fired."""

    method: str
    error: FaultError
    chat_id: int | str | None = None
    nth: int = 1
    every: bool = False
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.method.lower() != method.lower():
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)

    @property
    def done(self) -> bool:
        """A one-shot fault that already fired."""
        return not self.every and self.fired > 0


@dataclass
class Faults:
    """The scripted failures of an emulator: ``emu.faults.add(...)``."""

    items: list[Fault] = field(default_factory=list)

    def add(
        self,
        method: str,
        *,
        error: FaultError,
        chat_id: int | str | None = None,
        nth: int = 1,
        every: bool = False,
    ) -> Fault:
        """Fail the ``nth`` matching call from now on (``every``: that one and all later)."""
        if nth < 1:
            raise ValueError("nth counts from 1")
        fault = Fault(method=method, error=error, chat_id=chat_id, nth=nth, every=every)
        self.items.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        self.items.remove(fault)

    def clear(self) -> None:
        self.items.clear()

    def take(self, method: str, chat_id: int | str | None) -> Fault | None:
        """Count this call against every matching fault; return the one that fires."""
        chosen: Fault | None = None
        for fault in self.items:
            if fault.done or not fault.matches(method, chat_id):
                continue
            fault.seen += 1
            fires = fault.seen >= fault.nth if fault.every else fault.seen == fault.nth
            if fires and chosen is None:
                fault.fired += 1
                chosen = fault
        return chosen
