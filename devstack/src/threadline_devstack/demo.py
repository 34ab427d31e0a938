"""`make demo`: start the local stack, play support conversations through the Slack and Zendesk
sandboxes, print what each side saw, and stop what this run started.

Everything goes through the real wire: people post with slack_sdk and their user tokens, an
agent answers with zenpy and the agent's own credentials, an email arrives at the Zendesk
sandbox; ingest, router and zendesk-sync do the rest over Kafka.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from slack_sdk import WebClient
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket

from threadline_common.channels import load_channels
from threadline_devstack import infra, stack

SUPPORT = "C0SUPPORT"


class Story:
    def __init__(self, s: dict[str, Any]) -> None:
        self.s = s
        os.environ.update(s.get("zenpy_env", {}))  # our own zenpy talks to the sandbox too
        self.api = s["slack_api_url"]
        self.bot = WebClient(token=s["slack_bot_token"], base_url=self.api)
        self.names = {u: self._name(u) for u in ("U0ALICE", "U0BOB", "U0SRE", "U0BOT")}
        self.zen = self._zen(s["zendesk_api"]["email"], s["zendesk_api"]["token"])
        self.agent = self._zen(s["zendesk_agent"]["email"], s["zendesk_agent"]["token"])
        self.zendesk_base = s["zendesk_api_url"].removesuffix("/api/v2/")

    def _zen(self, email: str, token: str) -> Zenpy:
        zen = Zenpy(subdomain=self.s["zendesk_subdomain"], email=email, token=token)
        zen.disable_caching()
        return zen

    def _name(self, user: str) -> str:
        return str(self.bot.users_info(user=user)["user"]["real_name"])

    def person(self, name: str) -> WebClient:
        return WebClient(token=self.s["slack_users"][name], base_url=self.api)

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.3)
        raise RuntimeError(f"the demo waited in vain for {what}")

    def thread(self, ts: str) -> list[dict[str, Any]]:
        return list(self.bot.conversations_replies(channel=SUPPORT, ts=ts)["messages"])

    def channel_said(self, needle: str) -> bool:
        """Whether the bot posted `needle` at the top of #support."""
        messages = self.bot.conversations_history(channel=SUPPORT)["messages"]
        return any(m.get("bot_id") and needle in m["text"] for m in messages)

    def ticket_by_thread(self, ts: str) -> Any:
        found = list(self.zen.tickets(external_id=f"{self.s['slack_team_id']}:{SUPPORT}:{ts}"))
        return found[0] if found else None

    def show_thread(self, ts: str) -> None:
        print(f"\n  Slack #support thread {ts}:")
        for m in self.thread(ts):
            who = m.get("username") or self.names.get(m.get("user", ""), m.get("user", "?"))
            text = m["text"].replace("\n", " ")
            print(f"    {'🤖 ' if m.get('bot_id') else ''}{who:>16}: {text[:110]}")

    def show_ticket(self, ticket_id: int) -> None:
        ticket = self.zen.tickets(id=ticket_id)
        print(f"\n  Zendesk ticket #{ticket.id} [{ticket.status}] {ticket.subject!r}  external_id={ticket.external_id}")
        for c in self.zen.tickets.comments(ticket=ticket_id):
            author = self.zen.users(id=c.author_id).name
            kind = "public" if c.public else "INTERNAL"
            print(f"    {kind:>8} {author:>20} via {c.via.channel:5}: {c.body.replace(chr(10), ' ')[:100]}")

    def bot_said(self, ts: str, needle: str) -> bool:
        return any(m.get("bot_id") and needle in m["text"] for m in self.thread(ts))


def _support_rotates(s: dict[str, Any]) -> bool:
    """Whether #support has a rotating fireman (make up's channels file has one, unless edited)."""
    rules = load_channels(s["channels_file"]).rules_for(SUPPORT) if s.get("channels_file") else None
    return rules is not None and rules.rotation is not None and rules.on_call is None


def play(s: dict[str, Any]) -> None:
    story = Story(s)
    alice, bob = story.person("alice"), story.person("bob")

    if _support_rotates(s):
        # The announcement says the router knows the team (zendesk-sync reads its user group
        # after start): a request before that could name no one.
        print("\n0. The support team's fireman of the week is announced in #support.")
        story.wait("the fireman's announcement", lambda: story.channel_said("is on duty until"), timeout=120)
    print("\n1. Alice asks in #support; Threadline opens a ticket and answers with its link.")
    root = alice.chat_postMessage(channel=SUPPORT, text="The printer on floor 3 is on fire :fire:")["ts"]
    ticket = story.wait("the ticket", lambda: story.ticket_by_thread(root))
    story.wait("the ticket link", lambda: story.bot_said(root, f"#{ticket.id}"))
    if _support_rotates(s):
        print("   The support team's fireman of the week is named in the thread.")
        story.wait("the fireman named", lambda: story.bot_said(root, "On duty now"))

    print("2. Bob and Alice reply in the thread; each reply becomes one comment, by its author.")
    bob.chat_postMessage(channel=SUPPORT, thread_ts=root, text="Which printer exactly?")
    alice.chat_postMessage(channel=SUPPORT, thread_ts=root, text="The big one by the window")
    story.wait("the comments", lambda: len(list(story.zen.tickets.comments(ticket=ticket.id))) >= 3)

    print("3. Agent Ann answers in Zendesk, and leaves an internal note that stays private.")
    story.agent.tickets.update(
        Ticket(id=ticket.id, comment=Comment(body="Please unplug it; a technician is on the way."))
    )
    story.agent.tickets.update(
        Ticket(id=ticket.id, comment=Comment(body="Third printer fire this month.", public=False))
    )
    story.wait("the agent's answer in Slack", lambda: story.bot_said(root, "unplug"))

    print("4. Alice types `resolve`; the ticket is solved and the thread is told.")
    alice.chat_postMessage(channel=SUPPORT, thread_ts=root, text="resolve")
    story.wait("the solved notice", lambda: story.bot_said(root, "solved"))
    story.show_thread(root)
    story.show_ticket(ticket.id)

    print("\n5. Alice asks about the VPN; before a person answers, Threadline offers its automatic answer")
    print('   (the channel\'s `vpn` rule) with the buttons "This solved it" and "I still need help".')
    print("   (Bob and Sam are the support team: their own questions get no automatic answer.)")
    asked = alice.chat_postMessage(channel=SUPPORT, text="My VPN disconnects every few minutes")["ts"]
    story.wait("the automatic answer", lambda: story.bot_said(asked, "the VPN guide"))
    story.show_thread(asked)

    print("\n6. Dana emails support; the ticket opens a new thread in #support, and Sam answers there.")
    email = httpx.post(
        f"{story.zendesk_base}/_sandbox/email",
        json={
            "from_name": "Dana",
            "from_email": "dana@example.com",
            "subject": "VPN drops every hour",
            "body": "Since this morning the VPN drops every hour.",
            "group_id": s["zendesk_group_id"],
        },
        timeout=10,
    ).json()["ticket_id"]

    def history():
        return [m for m in story.bot.conversations_history(channel=SUPPORT)["messages"] if f"#{email}" in m["text"]]

    email_root = story.wait("the email's thread", history)[0]["ts"]
    story.wait("the ticket linked to the thread", lambda: story.zen.tickets(id=email).external_id)
    story.person("sam").chat_postMessage(channel=SUPPORT, thread_ts=email_root, text="Restarting the VPN gateway now.")
    story.wait(
        "Sam's reply on the ticket", lambda: any("gateway" in c.body for c in story.zen.tickets.comments(ticket=email))
    )
    story.show_thread(email_root)
    story.show_ticket(email)

    notes = [c for c in story.zen.tickets.comments(ticket=ticket.id) if not c.public]
    assert not any("Third printer fire" in m["text"] for m in story.thread(root)), "an internal note reached Slack"
    print(f"\nInternal notes kept private: {len(notes)}; tickets: {ticket.id}, {email}. The story is complete.")
    report(story, s)


def report(story: Story, s: dict[str, Any]) -> None:
    """The reporter's side: the conversations in Elasticsearch, and today's report posted to #support."""
    print("\n7. The reporter indexed the conversations; the daily report goes to #support.")

    def solved_indexed() -> Any:
        found = httpx.post(
            f"{s['elasticsearch_url']}/{s['reporter_index_prefix']}conversations/_search",
            json={"size": 10, "query": {"match_all": {}}},
            timeout=10,
        )
        hits = found.json().get("hits", {}).get("hits", []) if found.status_code == 200 else []
        solved = any(h["_source"]["status"] == "solved" for h in hits)
        # the emailed ticket is one conversation once its thread's activity is indexed too
        merged = not any(h["_source"]["conversation_id"].startswith("zd:") for h in hits)
        return hits if solved and merged else None

    for hit in story.wait("the conversations in Elasticsearch", solved_indexed):
        c = hit["_source"]
        ttfr = c["time_to_first_response_seconds"]
        print(
            f"  {c['conversation_id']:>34} [{c['status']}] messages {c['message_count']}, "
            f"first response {'-' if ttfr is None else f'{ttfr:.0f}s'}, reopened {c['reopened_count']}"
        )
    today = time.strftime("%Y-%m-%d", time.gmtime())
    params = {"channel": SUPPORT, "date": today}
    auth = {"Authorization": f"Bearer {s['reporter_api_token']}"}  # the reports API's token (`make up`)
    posted = httpx.post(f"{s['reporter_url']}/reports/daily/post", params=params, headers=auth, timeout=30).json()
    message = next(m for m in story.thread(posted["ts"]) if m["ts"] == posted["ts"])
    print(f"  daily report posted ({posted['status']}) as {message['text']!r}")


def main() -> int:
    was_running = infra.local_kafka().process.alive()
    try:
        started = time.monotonic()
        s = stack.up()
        print(f"\nstack ready in {time.monotonic() - started:.0f}s")
        play(s)
        return 0
    except (RuntimeError, infra.InfraError) as exc:
        print(f"\nerror: {exc}\nlogs: {infra.run_dir() / 'logs'}", file=sys.stderr)
        return 1
    finally:
        stack.down(keep_infra=was_running)  # stop what this run started, nothing more


if __name__ == "__main__":
    sys.exit(main())
