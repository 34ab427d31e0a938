"""settle_heap: what a service has built is frozen out of the collector's walks, and the youngest
generation is collected at the service's own threshold (in a process of its own: the settings
are the interpreter's)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import gc
from threadline_common.heap import settle_heap
built = [{"kept": [n]} for n in range(1000)]
middle, old = gc.get_threshold()[1:]
settle_heap(young=50_000)
assert gc.get_freeze_count() >= 1000, gc.get_freeze_count()
assert gc.get_threshold() == (50_000, middle, old), gc.get_threshold()
print("ok")
"""


@pytest.mark.unit
def test_settle_heap_freezes_what_exists_and_sets_the_young_threshold():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
