"""A bounded map for the clients' caches: they only spare API calls, so forgetting is safe."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class LRU(OrderedDict[str, Any]):
    def __init__(self, size: int = 5000) -> None:
        super().__init__()
        self.size = size

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
