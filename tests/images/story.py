"""One whole conversation, checked from outside: what the image tests play through containers
and through the chart's pods alike."""

from __future__ import annotations

from elasticsearch import Elasticsearch
from slack_sdk import WebClient
from zenpy import Zenpy

from threadline_devstack.waiting import wait_until
from threadline_sandbox.slack import SlackSandbox
from threadline_sandbox.zendesk import ZendeskSandbox


def channels_yaml(zendesk: ZendeskSandbox) -> str:
    return (
        f"channels:\n  C0SUPPORT: {{name: support, zendesk: {{group_id: {zendesk.group_id}}}}}\n"
        f"email_groups: {{{zendesk.group_id}: C0SUPPORT}}\n"
    )


def one_conversation(slack: SlackSandbox, zendesk: ZendeskSandbox, elasticsearch_url: str, index_prefix: str) -> None:
    """A question becomes a ticket with its link in the thread, the agent's answer reaches Slack,
    `resolve` solves it, and the reporter indexes the conversation as solved."""
    alice = WebClient(token=slack.user_token("alice"), base_url=slack.api_url)
    zen = Zenpy(subdomain=zendesk.subdomain, email=zendesk.api_email, token=zendesk.api_token)
    zen.disable_caching()
    root = alice.chat_postMessage(channel="C0SUPPORT", text="The VPN drops every ten minutes")["ts"]
    conversation = f"T0SANDBOX:C0SUPPORT:{root}"
    [ticket] = wait_until("the ticket", lambda: list(zen.tickets(external_id=conversation)), timeout=120)
    assert ticket.subject == "The VPN drops every ten minutes"
    wait_until(
        "the ticket link in the thread",
        lambda: [m for m in slack.thread("C0SUPPORT", root) if m.get("bot_id") and f"#{ticket.id}" in m["text"]],
    )
    zendesk.agent_comment(ticket.id, "Please update the client to 5.2.")
    wait_until(
        "the agent's answer in the thread",
        lambda: [m for m in slack.thread("C0SUPPORT", root) if "5.2" in m.get("text", "")],
    )
    alice.chat_postMessage(channel="C0SUPPORT", thread_ts=root, text="resolve")
    wait_until("the ticket solved", lambda: zen.tickets(id=ticket.id).status == "solved")

    es = Elasticsearch(elasticsearch_url)

    def indexed_as_solved() -> dict | None:
        query = {"term": {"conversation_id": conversation}}
        hits = es.search(index=f"{index_prefix}conversations", query=query, allow_no_indices=True)["hits"]["hits"]
        return hits[0]["_source"] if hits and hits[0]["_source"].get("status") == "solved" else None

    doc = wait_until("the conversation indexed as solved", indexed_as_solved, timeout=120)
    assert doc["ticket_id"] == ticket.id
