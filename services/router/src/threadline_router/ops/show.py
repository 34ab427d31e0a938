"""`show`: a conversation's state as the router's links table holds it, so operators need not read Kafka."""

from __future__ import annotations

import argparse
import json
from typing import Any

from threadline_router.ops import parse
from threadline_router.ops.env import Env
from threadline_router.ops.kafka_io import OpsError


def find(env: Env, target: parse.Target) -> list[dict[str, Any]]:
    """The links table's conversations that `target` names, by conversation id."""
    table = env.io.read_table(env.topics.links)
    return sorted((c for c in table.values() if parse.matches(c, target)), key=lambda c: str(c.get("conversation_id")))


def named(target: parse.Target) -> str:
    """`target` as a message names it."""
    if target.kind == "ticket":
        return f"ticket #{target.ticket_id}"
    if target.kind == "thread":
        assert target.thread is not None
        return f"thread {target.thread.channel_id} {target.thread.root_ts}"
    return f"conversation {target.conversation_id}"


def run_show(args: argparse.Namespace, env: Env) -> int:
    found = find(env, args.target)
    if not found:
        raise OpsError(f"no conversation for {named(args.target)} in {env.topics.links}")
    if args.json:
        env.say(json.dumps(found[0] if len(found) == 1 else found, indent=2, sort_keys=True))
    else:
        env.say("\n\n".join(parse.describe(c) for c in found))
    return 0
