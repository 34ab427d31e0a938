"""Progress of a long command: a bar redrawn in place on a terminal, plain count lines otherwise
(logs and pipes get one line per step, not control characters)."""

from __future__ import annotations

from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO, width: int = 30) -> None:
        self.total, self.label, self.stream, self.width = total, label, stream, width
        self.done = 0
        self.tty = stream.isatty()

    def step(self, note: str = "") -> None:
        self.done += 1
        if self.tty:
            filled = self.width * self.done // max(self.total, 1)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {note[:40]:<40}")
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{self.label} {self.done}/{self.total}{': ' + note if note else ''}\n")
        self.stream.flush()
