"""`make up` / `make down`: the local stack in the background, and stopping exactly it.

`up` starts Kafka and Elasticsearch (infra), the Slack and Zendesk sandboxes, and every
Threadline service, configured for each other, each under a watchdog that restarts it with
back-off when it exits (`threadline_devstack.supervise`, as a kubelet would); logs go to
.run/logs/<name>.log and what a person needs to use it goes to .run/stack.json and the terminal.

Real Slack or Zendesk instead of a sandbox: set THREADLINE_SLACK_BOT_TOKEN and
THREADLINE_SLACK_SIGNING_SECRET (and point your Slack app's request URL at ingest), or
THREADLINE_ZENDESK_SUBDOMAIN, THREADLINE_ZENDESK_EMAIL and THREADLINE_ZENDESK_API_TOKEN (and
THREADLINE_ZENDESK_WEBHOOK_SECRET of a webhook pointed at ingest); that sandbox does not start.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from threadline_devstack import infra, services
from threadline_devstack.processes import ManagedProcess

PORTS = {
    "ingest": 8080,
    "slack-sandbox": 8101,
    "zendesk-sandbox": 8102,
    "pagerduty-sandbox": 8103,
    "router": 6066,
    "zendesk-sync": 6067,
    "reporter": 6068,
}
SANDBOX_SLACK_SECRET = "sandbox-signing-secret"  # noqa: S105 - the sandbox's, not a real one
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret"  # noqa: S105


# `make up`'s support channel answers questions before a person does (README: Automatic answers):
# two rules, similar solved conversations and Help Center articles; `make demo` asks about the VPN.
ANSWERS = (
    ", answers: {rules: ["
    "{id: vpn, keywords: [vpn, remote access], answer: 'Most VPN drops are fixed by reinstalling the profile: "
    "see <https://wiki.example.com/vpn|the VPN guide>.'}, "
    "{id: password, keywords: [password reset, forgot my password, locked out], answer: 'Reset it yourself at "
    "<https://id.example.com/reset|the password page>; it takes a minute.'}], "
    "similar_solved: true, help_center: {locale: en-us}}"
)


def _port(name: str) -> int:
    return int(os.environ.get(f"THREADLINE_{name.upper().replace('-', '_')}_PORT", PORTS[name]))


def _sandbox(name: str, module: str, args: list[str]) -> ManagedProcess:
    return ManagedProcess(name=name, argv=[sys.executable, "-m", module, *args], run_dir=infra.run_dir())


def _wait_port(process: ManagedProcess, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not infra.port_in_use(port):
        if time.monotonic() > deadline or not process.alive():
            raise infra.InfraError(f"{process.name} did not start:\n{process.log_tail()}")
        time.sleep(0.1)


def _seed_help_center(shape: Any, zenpy_env: dict[str, str]) -> None:
    """The demo's Help Center articles, written into the sandbox through its create endpoint."""
    from zenpy import Zenpy

    from threadline_devstack.help_center import seed_articles

    os.environ.update(zenpy_env)  # zenpy reads where to go from the environment
    zen = Zenpy(subdomain=shape.subdomain, email=shape.api_email, token=shape.api_token)
    section = min(shape.account.help_center.sections)
    seed_articles(zen, section, shape.account.help_center.default_locale)


def all_processes() -> list[ManagedProcess]:
    """Every process `up` may start, for `down` (stopped by pid file; absent ones are no-ops)."""
    run = infra.run_dir()
    return [
        ManagedProcess(name=n, argv=[], run_dir=run)
        for n in (
            "ingest",
            "router",
            "zendesk-sync",
            "reporter",
            "slack-sandbox",
            "zendesk-sandbox",
            "pagerduty-sandbox",
        )
    ]


def up() -> dict[str, Any]:
    stack: dict[str, Any] = dict(infra.up())
    run = infra.run_dir()
    ingest_url = f"http://127.0.0.1:{_port('ingest')}"

    real_slack = bool(
        os.environ.get("THREADLINE_SLACK_BOT_TOKEN") and os.environ.get("THREADLINE_SLACK_SIGNING_SECRET")
    )
    if real_slack:
        slack = {
            "slack_api_url": "https://slack.com/api/",
            "slack_bot_token": os.environ["THREADLINE_SLACK_BOT_TOKEN"],
            "slack_signing_secret": os.environ["THREADLINE_SLACK_SIGNING_SECRET"],
            "slack_users": {},
        }
    else:
        from threadline_sandbox.slack.server import load_workspace

        port = _port("slack-sandbox")
        process = _sandbox(
            "slack-sandbox",
            "threadline_sandbox.slack",
            [
                "--port",
                str(port),
                "--events-url",
                f"{ingest_url}/slack/events",
                "--commands-url",
                f"{ingest_url}/slack/commands",
                "--interactivity-url",
                f"{ingest_url}/slack/interactions",
                "--signing-secret",
                SANDBOX_SLACK_SECRET,
            ],
        ).start()
        _wait_port(process, port)
        ws = load_workspace()
        slack = {
            "slack_api_url": f"http://127.0.0.1:{port}/api/",
            "slack_bot_token": ws.bot["token"],
            "slack_bot_id": ws.bot["bot_id"],
            "slack_bot_user_id": ws.bot["user_id"],
            "slack_signing_secret": SANDBOX_SLACK_SECRET,
            "slack_users": {u["name"]: u["token"] for u in ws.users.values() if u.get("token")},
            "slack_team_id": ws.team_id,
        }
    stack.update(slack)

    real_zendesk = all(
        os.environ.get(f"THREADLINE_ZENDESK_{k}") for k in ("SUBDOMAIN", "EMAIL", "API_TOKEN", "WEBHOOK_SECRET")
    )
    if real_zendesk:
        subdomain = os.environ["THREADLINE_ZENDESK_SUBDOMAIN"]
        zendesk: dict[str, Any] = {
            "zendesk_api_url": f"https://{subdomain}.zendesk.com/api/v2/",
            "zendesk_subdomain": subdomain,
            "zendesk_api": {
                "email": os.environ["THREADLINE_ZENDESK_EMAIL"],
                "token": os.environ["THREADLINE_ZENDESK_API_TOKEN"],
            },
            "zendesk_webhook_secret": os.environ["THREADLINE_ZENDESK_WEBHOOK_SECRET"],
            "zendesk_group_id": int(os.environ.get("THREADLINE_ZENDESK_GROUP_ID", "0")) or None,
        }
        zenpy_env: dict[str, str] = {}
    else:
        from threadline_sandbox.zendesk.server import ZendeskSandbox

        port = _port("zendesk-sandbox")
        process = _sandbox(
            "zendesk-sandbox",
            "threadline_sandbox.zendesk",
            [
                "--port",
                str(port),
                "--webhook-url",
                f"{ingest_url}/zendesk/webhook",
                "--webhook-secret",
                SANDBOX_WEBHOOK_SECRET,
            ],
        ).start()
        _wait_port(process, port)
        # The account the sandbox process seeded is the same as a fresh in-memory one: read its ids.
        shape = ZendeskSandbox(port=0)
        zendesk = {
            "zendesk_api_url": f"http://127.0.0.1:{port}/api/v2/",
            "zendesk_subdomain": shape.subdomain,
            "zendesk_api": {"email": shape.api_email, "token": shape.api_token, "user_id": shape.api_user["id"]},
            "zendesk_agent": {"email": shape.agent["email"], "token": shape.agent_token},
            "zendesk_webhook_secret": SANDBOX_WEBHOOK_SECRET,
            "zendesk_group_id": shape.group_id,
            "zendesk_infra_group_id": shape.infra_group_id,
        }
        zenpy_env = {"ZENPY_FORCE_SCHEME": "http", "ZENPY_FORCE_NETLOC": f"127.0.0.1:{port}"}
        zendesk["zenpy_env"] = zenpy_env
        _seed_help_center(shape, zenpy_env)
    stack.update(zendesk)

    # PagerDuty: THREADLINE_PAGERDUTY_API_TOKEN (and _API_URL) for a real account, else the sandbox.
    if os.environ.get("THREADLINE_PAGERDUTY_API_TOKEN"):
        pagerduty = {
            "pagerduty_api_url": os.environ.get("THREADLINE_PAGERDUTY_API_URL", "https://api.pagerduty.com"),
            "pagerduty_api_token": os.environ["THREADLINE_PAGERDUTY_API_TOKEN"],
        }
        on_call = ""
    else:
        from threadline_sandbox.pagerduty import PagerDutySandbox

        port = _port("pagerduty-sandbox")
        process = _sandbox("pagerduty-sandbox", "threadline_sandbox.pagerduty", ["--port", str(port)]).start()
        _wait_port(process, port)
        pagerduty = {"pagerduty_api_url": f"http://127.0.0.1:{port}", "pagerduty_api_token": PagerDutySandbox().token}
        on_call = ", on_call: {escalation_policy_id: PPOLSUP}"  # the sandbox's Support policy
    stack.update(pagerduty)

    channels = run / "channels.yaml"
    if not channels.exists():
        group = zendesk.get("zendesk_group_id")
        infra_group = zendesk.get("zendesk_infra_group_id", group)
        channels.write_text(
            "# Local channel routing (see README: Channel routing). Edit and `make up` again.\n"
            "defaults:\n  zendesk: {tags: [slack]}\n"
            "channels:\n"
            f"  C0SUPPORT: {{name: support, zendesk: {{group_id: {group}}}{ANSWERS},\n"
            # The support team is a user group (Bob and Sam): their own posts are no requests,
            # and they take turns as the fireman, a week each, named on new requests.
            "              team: [S0SUPPORT],\n"
            "              rotation: {people: team, period: weekly, start: 2026-01-05, timezone: Europe/Paris}}\n"
            "  C0INFRA: {name: infra-help, resolvers: requester_and_responders,\n"
            f"            zendesk: {{group_id: {infra_group}}}{on_call}}}\n"
            + (f"email_groups: {{{group}: C0SUPPORT}}\n" if group else "")
        )
    index_prefix = "threadline-" if real_slack else SANDBOX_INDEX_PREFIX
    reporter_api_token = _reporter_api_token(run)
    if not real_slack:
        _forget_sandbox_indices(stack["elasticsearch_url"])
    env = services.ServiceEnv(stack["kafka_bootstrap"], "", run)
    ticket_url = f"http://127.0.0.1:{_port('zendesk-sandbox')}/agent/tickets/" if not real_zendesk else None
    # Each service runs under a watchdog that restarts it with back-off when it exits (a crash
    # exits non-zero), as Kubernetes would, and says so in its log; `make down` stops both.
    services_started = [
        services.ingest(env, _port("ingest"), stack["slack_signing_secret"], stack["zendesk_webhook_secret"]),
        services.router(
            env,
            channels,
            _port("router"),
            slack_bot_id=stack.get("slack_bot_id", ""),
            slack_bot_user_id=stack.get("slack_bot_user_id", ""),
            zendesk_api_user_id=str(zendesk["zendesk_api"].get("user_id", "")),
        ),
        services.zendesk_sync(
            env,
            _port("zendesk-sync"),
            subdomain=zendesk["zendesk_subdomain"],
            email=zendesk["zendesk_api"]["email"],
            api_token=zendesk["zendesk_api"]["token"],
            slack_bot_token=stack["slack_bot_token"],
            slack_api_url=stack["slack_api_url"] if not real_slack else None,
            ticket_url=ticket_url,
            zenpy_env=zenpy_env,
            slack_channel_interval_seconds="0.2",
            pagerduty_api_url=pagerduty["pagerduty_api_url"],
            pagerduty_api_token=pagerduty["pagerduty_api_token"],
            channels_file=str(channels),  # the user groups its teams and rotations name
            usergroup_refresh_seconds="60",
        ),
        services.reporter(
            env,
            _port("reporter"),
            elasticsearch_url=stack["elasticsearch_url"],
            channels_file=channels,
            slack_bot_token=stack["slack_bot_token"],
            slack_api_url=stack["slack_api_url"] if not real_slack else None,
            index_prefix=index_prefix,
            # comments Threadline's own Zendesk user writes are not responses
            bridge_actor_ids=str(zendesk["zendesk_api"].get("user_id", "")),
            batch_seconds="0.3",
            api_token=reporter_api_token,
        ),
    ]
    started = [services.supervised(process).start() for process in services_started]
    services.wait_http(f"{ingest_url}/readyz", started[0])
    services.wait_http(f"http://127.0.0.1:{_port('router')}/readyz", started[1], timeout=120)
    services.wait_http(f"http://127.0.0.1:{_port('zendesk-sync')}/readyz", started[2], timeout=120)
    services.wait_http(f"http://127.0.0.1:{_port('reporter')}/readyz", started[3], timeout=120)
    stack.update(
        {
            "ingest_url": ingest_url,
            "reporter_url": f"http://127.0.0.1:{_port('reporter')}",
            "reporter_api_token": reporter_api_token,
            "reporter_index_prefix": index_prefix,
            "support_channels": ["C0SUPPORT", "C0INFRA"],
            "channels_file": str(channels),
            "logs": str(run / "logs"),
        }
    )
    infra.update_stack_file(**{k: v for k, v in stack.items() if k != "zenpy_env"})
    print(f"ingest          {ingest_url}  (Slack: /slack/events, Zendesk: /zendesk/webhook)")
    print(f"Slack API       {stack['slack_api_url']}  bot token {stack['slack_bot_token']}")
    for name, token in stack.get("slack_users", {}).items():
        print(f"  Slack user    {name:6} {token}")
    print(f"PagerDuty API   {pagerduty['pagerduty_api_url']}")
    print(f"Zendesk API     {zendesk['zendesk_api_url']}  agent {zendesk.get('zendesk_agent', {}).get('email', '-')}")
    print(f"reporter        {stack['reporter_url']}/reports/...  Authorization: Bearer {reporter_api_token}")
    print(f"logs            {run / 'logs'}/<name>.log;  everything in {run / 'stack.json'}")
    return stack


def _reporter_api_token(run: Path) -> str:
    """THREADLINE_REPORTER_API_TOKEN if set, else one made for this stack and kept in .run/ (so a
    second `make up` does not change what a script of yours sends)."""
    given = os.environ.get("THREADLINE_REPORTER_API_TOKEN")
    if given:
        return given
    path = run / "reporter-api-token"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


# A sandbox workspace starts empty each time; indices about the last one's threads would show
# conversations and report markers that no longer exist in it.
SANDBOX_INDEX_PREFIX = "threadline-sandbox-"


def _forget_sandbox_indices(elasticsearch_url: str) -> None:
    import httpx

    with httpx.Client(base_url=elasticsearch_url, timeout=30) as es:
        found = es.get(f"/_cat/indices/{SANDBOX_INDEX_PREFIX}*", params={"format": "json", "h": "index"})
        found.raise_for_status()
        names = [row["index"] for row in found.json()]
        if names:  # by name: Elasticsearch refuses wildcard deletes by default
            es.delete("/" + ",".join(names)).raise_for_status()


def down(keep_infra: bool = False) -> None:
    for process in all_processes():
        process.stop(timeout=20)
    if keep_infra:
        return
    infra.down()
    path = infra.run_dir() / "stack.json"
    path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m threadline_devstack.stack")
    parser.add_argument("command", choices=["up", "down"])
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up()
        else:
            down()
    except (infra.InfraError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
