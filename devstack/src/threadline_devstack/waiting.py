"""Waiting for something to happen (tests, the bench), with a message that says what did not."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(what: str, check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Call `check` until it returns something truthy and return that; fail naming `what` after `timeout` s.
    Checks that read through a sandbox's API spend the same rate budget as the services under test:
    poll gently."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
