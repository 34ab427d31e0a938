"""A crash is fatal: log it, then end the process with EXIT_CRASHED at once, as a SIGKILL would.

Every service is built to be killed at any point (offsets are committed only past work whose
effects are acknowledged; the crash drill SIGKILLs them), so exiting on the spot is safe, and it
leaves no half-alive process behind: a worker thread or agent that died while the process answers
its probes would stop every conversation with nobody told. Kubernetes, and `make up`'s watchdog,
restart the process with back-off.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

# EX_SOFTWARE (sysexits.h): an internal error. Not 0, so a restart policy sees a failure.
EXIT_CRASHED = 70


def exit_now(what: str, error: BaseException) -> None:
    """Log the crash (with its traceback) and end the process with EXIT_CRASHED."""
    log.critical(
        "%s crashed (%s); the process exits with status %d so that it is restarted",
        what,
        type(error).__name__,
        EXIT_CRASHED,
        exc_info=error,
    )
    logging.shutdown()  # flush every handler: os._exit does not
    os._exit(EXIT_CRASHED)
