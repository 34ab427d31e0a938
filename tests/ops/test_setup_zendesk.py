"""`threadline-ops setup-zendesk` against the Zendesk sandbox, seen as an operator sees it (the
command's exit code, stdout and stderr) and as Zendesk keeps it (zenpy's webhooks API): one
webhook however often it runs, its signing secret on stdout, and one line for what is wrong."""

from __future__ import annotations

import io
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sandboxes.zendesk.conftest import Listener
from zenpy.lib.api_objects import Comment, Ticket, User, Webhook

from threadline_ingest.verify import verify_zendesk
from threadline_router.ops.cli import main
from threadline_sandbox.zendesk import ZendeskSandbox

pytestmark = pytest.mark.unit

INGEST = "https://threadline.sandbox-corp.example"
ENDPOINT = f"{INGEST}/zendesk/webhook"
EVENTS = [
    "zen:event-type:ticket.created",
    "zen:event-type:ticket.comment_added",
    "zen:event-type:ticket.status_changed",
]

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def zendesk(monkeypatch) -> Iterator[ZendeskSandbox]:
    sandbox = ZendeskSandbox().start()
    env = {
        **sandbox.zenpy_env(),
        "THREADLINE_OPS_ZENDESK_SUBDOMAIN": sandbox.subdomain,
        "THREADLINE_OPS_ZENDESK_EMAIL": sandbox.api_email,  # an admin, as webhooks need
        "THREADLINE_OPS_ZENDESK_API_TOKEN": sandbox.api_token,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def ops() -> Run:
    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out, err)
        return code, out.getvalue(), err.getvalue()

    return run


@pytest.fixture
def ingest() -> Iterator[Listener]:
    endpoint = Listener()  # listens on .../zendesk/webhook, as ingest does
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


def hooks(zendesk: ZendeskSandbox) -> list[Webhook]:
    return list(zendesk.zenpy().webhooks.list())


def test_it_creates_the_webhook_once_and_prints_its_secret(zendesk, ops):
    code, out, err = ops("setup-zendesk", "--url", INGEST)
    assert code == 0, err
    (hook,) = hooks(zendesk)
    assert (hook.endpoint, hook.status, hook.http_method, hook.request_format) == (ENDPOINT, "active", "POST", "json")
    assert hook.subscriptions == EVENTS
    secret = zendesk.zenpy().webhooks.show_secret(hook.id).secret
    assert out == f"{secret}\n"  # stdout is the secret alone: it can go straight into the Secret
    assert f"created Zendesk webhook {hook.id}" in err and "zendesk-webhook-secret" in err

    code, again, err = ops("setup-zendesk", "--url", f"{INGEST}/")  # the same address, said differently
    assert code == 0, err
    assert [h.id for h in hooks(zendesk)] == [hook.id]
    assert again == out and "already as Threadline needs it" in err


def test_an_existing_webhook_to_ingest_is_brought_back_to_what_threadline_needs(zendesk, ops):
    zen = zendesk.zenpy()
    api = httpx_client(zendesk)
    old = api.post(
        "webhooks",
        json={
            "webhook": {
                "name": "Set up by hand",
                "endpoint": ENDPOINT,
                "http_method": "POST",
                "request_format": "json",
                "status": "inactive",
                "subscriptions": ["zen:event-type:ticket.created", "zen:event-type:ticket.priority_changed"],
                "authentication": {
                    "type": "basic_auth",
                    "add_position": "header",
                    "data": {"username": "zendesk", "password": "hunter2"},
                },
            }
        },
    ).json()["webhook"]
    unrelated = zen.webhooks.create(
        Webhook(
            name="Other app",
            endpoint="https://other.example/hook",
            http_method="POST",
            request_format="json",
            status="inactive",
            subscriptions=["zen:event-type:ticket.created"],
        )
    )
    code, out, err = ops("setup-zendesk", "--url", INGEST)
    assert code == 0, err
    assert {h.id for h in hooks(zendesk)} == {old["id"], unrelated.id}  # nothing created
    hook = zen.webhooks(id=old["id"])
    assert hook.status == "active" and set(EVENTS) <= set(hook.subscriptions)
    assert "zen:event-type:ticket.priority_changed" in hook.subscriptions  # what else it sent, it still sends
    assert hook.authentication["data"] == {"username": "zendesk"}  # the password set by hand is kept too
    assert hook.name == "Set up by hand"
    assert f"updated Zendesk webhook {old['id']}" in err and "it is inactive" in err
    assert out.strip() == zen.webhooks.show_secret(old["id"]).secret
    assert zen.webhooks(id=unrelated.id).status == "inactive"  # another endpoint's webhook is not ours


def test_the_secret_file_gets_the_secret_and_nobody_else_can_read_it(zendesk, ops, tmp_path):
    target = tmp_path / "secrets" / "zendesk-webhook-secret"
    code, out, err = ops("setup-zendesk", "--url", INGEST, "--secret-file", str(target))
    assert code == 0, err
    (hook,) = hooks(zendesk)
    assert target.read_text() == zendesk.zenpy().webhooks.show_secret(hook.id).secret
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert out == "" and str(target) in err


def test_ticket_events_reach_ingest_signed_with_the_printed_secret(zendesk, ops, ingest):
    base = ingest.url.removesuffix("/zendesk/webhook")  # http on this machine: allowed for localhost only
    code, secret, err = ops("setup-zendesk", "--url", base)
    assert code == 0, err
    zen = zendesk.zenpy()
    created = zen.tickets.create(
        Ticket(subject="VPN", comment=Comment(body="down"), requester=User(name="A", email="a@sandbox-corp.example"))
    )
    zen.tickets.update(Ticket(id=created.ticket.id, status="pending"))
    assert zendesk.wait_for_deliveries()
    assert [b["type"] for b in ingest.bodies()] == [EVENTS[0], EVENTS[2]]
    for headers, raw in ingest.requests:  # ingest's own verifier accepts them with that secret
        verify_zendesk(
            secret.strip(),
            headers["x-zendesk-webhook-signature-timestamp"],
            headers["x-zendesk-webhook-signature"],
            raw,
            now=time.time(),
            max_age=300,
        )


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["--url", "http://threadline.sandbox-corp.example"], "must reach ingest over https"),
        (["--url", "threadline.sandbox-corp.example"], "ingest's public https:// address is needed"),
        (["--url", "https://threadline.example/?x=1"], "without query"),
    ],
)
def test_a_wrong_url_is_one_line_and_exit_2(zendesk, ops, argv, wanted):
    code, out, err = ops("setup-zendesk", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and wanted in err and "--url" in err
    assert hooks(zendesk) == []


def test_bad_credentials_are_said_as_such(zendesk, ops, monkeypatch):
    monkeypatch.setenv("THREADLINE_OPS_ZENDESK_API_TOKEN", "not-the-token")
    code, out, err = ops("setup-zendesk", "--url", INGEST)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "refused the credentials (401" in err and "ZENDESK_API_TOKEN" in err


def test_an_agent_token_is_told_to_use_an_admin(zendesk, ops, monkeypatch):
    monkeypatch.setenv("THREADLINE_OPS_ZENDESK_EMAIL", zendesk.agent_email)
    code, out, err = ops("setup-zendesk", "--url", INGEST)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "(403" in err and "admin" in err
    assert hooks(zendesk) == []


def test_missing_credentials_and_an_unreachable_zendesk_are_one_line(ops, monkeypatch):
    for key in ("THREADLINE_OPS_ZENDESK_SUBDOMAIN", "THREADLINE_ZENDESK_SYNC_ZENDESK_SUBDOMAIN"):
        monkeypatch.delenv(key, raising=False)
    code, _, err = ops("setup-zendesk", "--url", INGEST)
    assert code == 1 and err.count("\n") == 1 and "THREADLINE_OPS_ZENDESK_SUBDOMAIN" in err

    monkeypatch.setenv("THREADLINE_OPS_ZENDESK_SUBDOMAIN", "sandbox")
    monkeypatch.setenv("THREADLINE_OPS_ZENDESK_EMAIL", "a@b.example")
    monkeypatch.setenv("THREADLINE_OPS_ZENDESK_API_TOKEN", "tok")
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", "127.0.0.1:9")  # nothing listens there
    code, _, err = ops("setup-zendesk", "--url", INGEST)
    assert code == 1 and err.count("\n") == 1 and "cannot reach Zendesk" in err


def httpx_client(zendesk: ZendeskSandbox) -> httpx.Client:
    return httpx.Client(base_url=zendesk.api_url, auth=(f"{zendesk.api_email}/token", zendesk.api_token))


def test_rotate_secret_resets_it_and_says_what_that_means(zendesk, ops):
    code, first, _ = ops("setup-zendesk", "--url", INGEST)
    assert code == 0
    code, rotated, err = ops("setup-zendesk", "--url", INGEST, "--rotate-secret")
    assert code == 0 and rotated != first
    (hook,) = hooks(zendesk)
    assert rotated.strip() == zendesk.zenpy().webhooks.show_secret(hook.id).secret
    assert "ingest refuses its events (401) until zendesk-webhook-secret has it" in err
    assert ops("setup-zendesk", "--url", INGEST)[1] == rotated  # without the flag: the secret as it is


def test_it_checks_the_groups_and_fields_the_channel_file_names(zendesk, ops, tmp_path, monkeypatch):
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        "channels:\n"
        "  C0SUPPORT:\n"
        "    name: support\n"
        f"    zendesk: {{group_id: {zendesk.group_id}, custom_fields: {{360002: emea}}}}\n"
    )
    monkeypatch.setenv("THREADLINE_OPS_CHANNELS_FILE", str(channels))
    code, out, err = ops("setup-zendesk", "--url", INGEST)
    assert code == 0, err
    assert "PROBLEM" not in err

    channels.write_text(
        "channels:\n  C0SUPPORT:\n    name: support\n    zendesk: {group_id: 999, custom_fields: {4040: x}}\n"
    )
    code, out, err = ops("setup-zendesk", "--url", INGEST)
    assert code == 1
    (hook,) = hooks(zendesk)  # the webhook is done all the same, and its secret said
    assert out == f"{zendesk.zenpy().webhooks.show_secret(hook.id).secret}\n"
    assert [line for line in err.splitlines() if line.startswith("PROBLEM")] == [
        f"PROBLEM channel C0SUPPORT (#support) in {channels}: Zendesk has no group 999 "
        "(groups: 1003 Support, 1004 Infrastructure)",
        f"PROBLEM channel C0SUPPORT (#support) zendesk.custom_fields in {channels}: Zendesk has no ticket field "
        "4040: correct the id, or create it in Admin Center > Objects and rules > Tickets > Fields",
    ]


def test_the_example_channel_file_names_what_the_sandbox_has(zendesk, ops, monkeypatch):
    example = Path(__file__).resolve().parents[2] / "examples" / "channels.yaml"
    monkeypatch.setenv("THREADLINE_OPS_CHANNELS_FILE", str(example))
    code, _, err = ops("setup-zendesk", "--url", INGEST)
    assert code == 0, err
