"""`threadline-ops setup-zendesk --url https://<ingest>`: the Zendesk webhook that sends
Threadline its ticket events, created, or brought back to what Threadline needs when one to the
same endpoint exists (run it twice: still one webhook), and its signing secret.

What happened goes to stderr, the signing secret alone to stdout (or to --secret-file), so that
it can go straight into the Secret:

    kubectl create secret generic threadline ... \\
      --from-literal=zendesk-webhook-secret="$(threadline-ops setup-zendesk --url https://threadline.acme.example)"

Everything goes through zenpy's webhooks API (create, patch, list, show_secret).

With a channel file (THREADLINE_OPS_CHANNELS_FILE or the router's) it then checks, as the doctor
does and with the doctor's code, the groups, brands and ticket fields the file names: one line per
problem on stderr, and exit 1 (the webhook and its secret are done all the same).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zenpy.lib.api_objects import Webhook
from zenpy.lib.exception import APIException, ZenpyException

from threadline_router.ops.doctor import channel_file_findings, zendesk_config_findings
from threadline_router.ops.env import Env, UsageError
from threadline_router.ops.saas import Zendesk
from threadline_router.ops.zendesk_webhook import (
    NEEDED_EVENTS,
    endpoint_for,
    event_webhooks_to,
    short,
    shortfalls,
    whoami,
    zendesk_error,
)


def _describe(webhook: Webhook) -> str:
    events = ", ".join(short(e) for e in webhook.subscriptions or ())
    return f"{webhook.id} {webhook.name!r} -> {webhook.endpoint} ({webhook.status}; {events})"


def run_setup_zendesk(args: argparse.Namespace, env: Env) -> int:
    endpoint = endpoint_for(args.url)
    secret_file: Path | None = args.secret_file
    if secret_file is not None and secret_file.is_dir():
        raise UsageError("--secret-file", f"{secret_file} is a directory")
    zendesk = Zendesk(env.ops)
    zen, subdomain = zendesk.zen, str(env.ops.zendesk_subdomain)
    whoami(zen, subdomain)  # a bad credential is said as such, before anything else
    hooks, triggers = event_webhooks_to(zen, endpoint, subdomain)

    def report(text: str) -> None:
        print(text, file=env.err, flush=True)

    try:
        if not hooks:
            wanted = Webhook(
                name=args.name,
                description="Ticket events for Threadline (threadline-ops setup-zendesk)",
                endpoint=endpoint,
                http_method="POST",
                request_format="json",
                status="active",
                subscriptions=list(NEEDED_EVENTS),
            )
            webhook = zen.webhooks.create(wanted)
            report(f"created Zendesk webhook {_describe(webhook)}")
        else:
            webhook, *others = hooks
            if shortfalls(webhook):
                reasons = "; ".join(shortfalls(webhook))
                # PATCH changes these fields only: an authentication set in Admin Center stays.
                change = Webhook(id=webhook.id, status="active", http_method="POST", request_format="json")
                change.subscriptions = sorted({*(webhook.subscriptions or ()), *NEEDED_EVENTS})
                zen.webhooks.patch(change)
                webhook = zen.webhooks(id=webhook.id)
                report(f"updated Zendesk webhook {_describe(webhook)} (was: {reasons})")
            else:
                report(f"Zendesk webhook {_describe(webhook)} is already as Threadline needs it")
            for other in others:
                report(
                    f"note: webhook {other.id} {other.name!r} also sends events to {endpoint}: "
                    "delete it in Admin Center > Apps and integrations > Webhooks (ingest would get each event twice)"
                )
        for trigger in triggers:
            report(
                f"note: webhook {trigger.id} {trigger.name!r} sends trigger bodies to the same endpoint: "
                "remove its triggers once event webhooks arrive (the same change would come twice)"
            )
        if args.rotate_secret:
            secret = zen.webhooks.reset_secret(webhook.id).secret
            report(
                "signing secret reset: Zendesk signs with the new one from now on, so ingest refuses its "
                "events (401) until zendesk-webhook-secret has it and ingest restarted"
            )
        else:
            secret = zen.webhooks.show_secret(webhook.id).secret
    except (APIException, ZenpyException, OSError) as exc:
        raise zendesk_error(exc, "create or update its webhook", subdomain) from exc

    if secret_file is not None:
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
        report(
            f"signing secret written to {secret_file}: put it in the zendesk-webhook-secret key of Threadline's Secret"
        )
    else:
        report("signing secret (stdout): put it in the zendesk-webhook-secret key of Threadline's Secret")
        env.say(secret)
    return _check_channel_file(env, zen, subdomain, report)


def _check_channel_file(env: Env, zen: Any, subdomain: str, report: Callable[[str], None]) -> int:
    channels, findings = channel_file_findings(env)
    if channels is not None:
        findings += zendesk_config_findings(zen, channels, subdomain, str(env.ops.channels_file))
    problems = [f for f in findings if not f.ok]
    for finding in problems:
        report(f"{finding.label} {finding.text}")
    return 1 if problems else 0
