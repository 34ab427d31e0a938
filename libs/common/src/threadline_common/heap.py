"""Python's cyclic garbage collector, set for a long-running service.

A service builds most of what it keeps (modules, routes, pydantic models, clients) at start;
each full collection would walk all of it again, and at 700 net allocations (CPython's default)
the youngest generation fills within a request or a batch, so its live objects are promoted to
the older generations that full collections walk. `settle_heap` freezes what exists once the
service is built (gc.freeze: no collection looks at it again; reference counting still frees
it) and raises the youngest generation's threshold, so that what a request or a batch makes has
died before a collection looks at it. The older generations keep CPython's thresholds.
"""

from __future__ import annotations

import gc


def settle_heap(young: int) -> None:
    """Call once the service is built, before it serves. `young`: net allocations of container
    objects between two collections of the youngest generation (more than one unit of work, a
    request or a batch, keeps alive at once)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, old)
