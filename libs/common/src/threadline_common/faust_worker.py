"""What the Faust services (router, zendesk-sync) share about their worker: which web pages it
serves, and that a crash ends the process with a non-zero exit code.

What Faust does by itself (seen on faust-streaming with a real broker,
tests/common/test_faust_worker.py): an agent that raises is logged as "Crashed" and restarted by
its supervisor with the next record; the process lives on, the failed record is left behind for
good, and so is every later record that meets the same bug. A timer that raises crashes the app,
and the worker stops all its services in order (committing offsets on the way) before it exits
with status 1. Here any such failure is fatal at once instead (threadline_common.crash: logged,
then exit 70, nothing committed past the record), the same for agents, timers and the app.

Records that are merely bad never get here: the agents dead-letter or skip them and go on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict, TypeVar

from threadline_common.crash import EXIT_CRASHED, exit_now
from threadline_common.dlq import dead_letter

log = logging.getLogger(__name__)

__all__ = ["EXIT_CRASHED", "WEB_OPTIONS", "ExitOnCrash", "fatal", "is_fatal", "worker_loglevel"]

FATAL_MARK = "__threadline_fatal__"


# Faust's built-in pages other than what we add (/healthz, /readyz, /metrics): /table/<name>/<key>
# would hand out the router's links table (every conversation's state) to anyone reaching the
# port, /router the cluster's worker URLs, / (statistics) and /graph the worker's internals.
# Off; "/" then serves only {"status": "OK"}.
class WebOptions(TypedDict):
    web_tables_enabled: bool
    web_router_enabled: bool
    web_stats_enabled: bool
    web_graph_enabled: bool
    web_metrics_enabled: bool


WEB_OPTIONS: WebOptions = {
    "web_tables_enabled": False,
    "web_router_enabled": False,  # table_route is not used: each worker routes within itself
    "web_stats_enabled": False,
    "web_graph_enabled": False,
    "web_metrics_enabled": False,
}

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def worker_loglevel(level: str) -> str:
    """The `faust worker --loglevel` choice for a LOG_LEVEL setting (faust knows `warn`, not `warning`)."""
    return {"WARNING": "warn"}.get(level.upper(), level.lower())


def fatal(what: str) -> Callable[[F], F]:
    """Wrap an agent's or a timer's function: an exception escaping it ends the process."""

    def wrap(fun: F) -> F:
        @functools.wraps(fun)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fun(*args, **kwargs)
            except asyncio.CancelledError:
                raise  # a stop or a rebalance, not a crash
            except Exception as exc:
                exit_now(what, exc)
                raise  # not reached; for the type checker and for tests that replace exit_now

        setattr(guarded, FATAL_MARK, what)
        return guarded  # type: ignore[return-value]

    return wrap


def is_fatal(fun: Any) -> bool:
    return bool(getattr(fun, FATAL_MARK, None))


class ExitOnCrash:
    """Mixin for a faust.App: when the app itself is crashed (a task or timer raised, or a
    service of its own failed), the process exits instead of living on stalled."""

    async def crash(self, reason: BaseException) -> None:
        exit_now("the Faust app", reason)


class DeadLetters:
    """The dead-letter policy of a Faust service, configured once: a record that cannot be handled
    goes, as the bytes it came as and with its headers, to `<its topic>.dlq` with the reason, and
    the stream goes on once Kafka has the letter (so its offset may be committed)."""

    def __init__(self, app: Any, service: str) -> None:
        self.app = app
        self.service = service
        self._topics: dict[str, Any] = {}

    async def send(self, event: Any, reason: str, error: BaseException | None) -> None:
        message = event.message
        headers = message.headers
        letter = dead_letter(
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            value=message.value,
            reason=reason,
            error=error,
            original_headers=list(headers.items()) if isinstance(headers, dict) else list(headers or []),
            service=self.service,
        )
        if letter.topic not in self._topics:
            self._topics[letter.topic] = self.app.topic(letter.topic, key_type=bytes, value_type=bytes)
        fut = await self._topics[letter.topic].send(key=letter.key, value=letter.value, headers=letter.headers)
        await fut
        log.warning("dead-lettered a record of %s: %s", message.topic, reason)


async def pause_while(disabled: bool) -> None:
    """The kill switch (DISABLE_MESSAGE_PROCESSING) for an agent: nothing is read, so nothing is
    committed; every record waits in Kafka until the service runs with it off, then is handled once."""
    if disabled:
        log.warning("message processing is disabled: records wait in Kafka until it is enabled")
        await asyncio.Event().wait()
