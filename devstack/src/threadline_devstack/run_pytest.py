"""Run pytest and fail when it ran no test.

pytest exits 5 when nothing was collected, which a CI script could take for success; here it
is a failure with a message, as is any run whose tests were all deselected or skipped.
"""

from __future__ import annotations

import sys

import pytest


class _Counter:
    def __init__(self) -> None:
        self.ran = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and not report.skipped:
            self.ran += 1


def main(argv: list[str]) -> int:
    counter = _Counter()
    code = pytest.main(argv, plugins=[counter])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED or (code == pytest.ExitCode.OK and counter.ran == 0):
        print("error: no test ran; a suite that tests nothing does not pass", file=sys.stderr)
        return 1
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
