"""What the Faust services (router, zendesk-sync) share about their worker: which web pages it
serves, and that a crash ends the process with a non-zero exit code.

Faust keeps a worker alive when one of its parts fails: an agent that raises is restarted by its
supervisor past the record it was handling (that partition then neither moves nor commits until
a rebalance), and a timer or task that raises marks the app crashed while the process stays up,
answering its probes. Either way nothing restarts it and every conversation waits. Here a crash
is fatal instead: logged, then the process exits with EXIT_CRASHED at once, as a SIGKILL would
end it. That is safe because the services are built for it (offsets are committed only past
records whose effects Kafka acknowledged; the crash drill SIGKILLs them), and it is the only way
that reliably skips Faust's own error path, which commits offsets on an agent error. Kubernetes
(and `make up`'s watchdog) then restarts the process with back-off.

Records that are merely bad never get here: the agents dead-letter or skip them and go on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

# EX_SOFTWARE (sysexits.h): an internal error. Not 0, so a restart policy sees a failure.
EXIT_CRASHED = 70
FATAL_MARK = "__threadline_fatal__"

# Faust's built-in pages other than what we add (/healthz, /readyz, /metrics): /table/<name>/<key>
# would hand out the router's links table (every conversation's state) to anyone reaching the
# port, /router the cluster's worker URLs, / (statistics) and /graph the worker's internals.
# Off; "/" then serves only {"status": "OK"}.
WEB_OPTIONS: dict[str, bool] = {
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


def exit_now(what: str, error: BaseException) -> None:
    """Log the crash (with its traceback) and end the process with EXIT_CRASHED."""
    log.critical(
        "%s crashed (%s); the worker exits with status %d so that it is restarted",
        what,
        type(error).__name__,
        EXIT_CRASHED,
        exc_info=error,
    )
    logging.shutdown()  # flush every handler: os._exit does not
    os._exit(EXIT_CRASHED)


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
