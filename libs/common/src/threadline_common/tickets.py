"""Zendesk ticket statuses as Threadline groups them (router, zendesk-sync and reporter alike)."""

from __future__ import annotations

from typing import Final

TICKET_STATUSES: Final = ("new", "open", "pending", "hold", "solved", "closed")
OPEN_STATUSES: Final = frozenset({"new", "open", "pending", "hold"})
DONE_STATUSES: Final = frozenset({"solved", "closed"})
# Waiting on the support side: pending means the agent waits on the requester.
WAITING_STATUSES: Final = frozenset({"new", "open", "hold"})
