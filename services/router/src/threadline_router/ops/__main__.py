"""`python -m threadline_router.ops ...`, the same as the `threadline-ops` command."""

from threadline_router.ops.cli import run

run()
