"""`make up` / `make down`: the local stack in the background, and stopping exactly it."""

from __future__ import annotations

import argparse
import sys

from threadline_devstack import infra


def up() -> dict[str, str]:
    return infra.up()


def down() -> None:
    infra.down()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m threadline_devstack.stack")
    parser.add_argument("command", choices=["up", "down"])
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up()
        else:
            down()
    except infra.InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
