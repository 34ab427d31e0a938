"""Reports from Elasticsearch to Slack, each posted once per period and channel.

Once means once across restarts and replicas: a marker document created with op_type=create is
the claim (only one writer can create it), and before posting the channel's history is searched
for a message whose metadata names the report, in case the marker was lost (indices rebuilt from
Kafka). A claim whose holder died is taken over after `stale_claim` with a conditional write.

Every Slack call about a channel (the post, the history searched, permalinks, names) is made with
the bot token of the channel's workspace (`slack_clients`; the single token without several).
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import uuid
from dataclasses import dataclass, replace
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from threadline_common.business_hours import Calendar
from threadline_common.channels import ChannelRules, ChannelsConfig
from threadline_common.times import format_time, parse_time
from threadline_reporter import insights, reports
from threadline_reporter.chart import weekly_chart
from threadline_reporter.documents import doc_id
from threadline_reporter.indices import Names
from threadline_reporter.reports import REPORT_EVENT_TYPE, Kind, Period, Report
from threadline_reporter.slack_clients import SlackClients, UnknownWorkspace

log = logging.getLogger(__name__)


class UnknownChannel(ValueError):
    pass


@dataclass(frozen=True)
class Posted:
    status: str  # posted | already_posted | in_progress | disabled
    channel: str | None = None
    ts: str | None = None


class Reporter:
    def __init__(
        self,
        es: Elasticsearch,
        names: Names,
        channels: ChannelsConfig,
        slack: WebClient | SlackClients | None,
        *,
        bridge_actor_ids: frozenset[str] = frozenset(),
        oldest_listed: int = 5,
        text_kept: bool = True,
        stale_claim: dt.timedelta = dt.timedelta(minutes=10),
    ) -> None:
        self.es, self.names, self.channels = es, names, channels
        self.slack = SlackClients.single(slack) if isinstance(slack, WebClient) else slack
        self.bridge_actor_ids = bridge_actor_ids
        self.oldest_listed = oldest_listed
        self.text_kept = text_kept  # False when TEXT_MODE=drop leaves no question to read terms from
        self.stale_claim = stale_claim
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"

    # --- building -------------------------------------------------------------------------

    def rules(self, channel_id: str) -> ChannelRules:
        rules = self.channels.rules_for(channel_id)
        if rules is None:
            raise UnknownChannel(f"{channel_id} is not a monitored channel (not in the channels file)")
        return rules

    def period(self, kind: Kind, channel_id: str, start: dt.date) -> Period:
        return Period(kind, channel_id, start, self.rules(channel_id).timezone)

    def _figures(self, period: Period) -> tuple[reports.Figures, dict[str, Any]]:
        body = reports.conversation_query(period, self.oldest_listed)
        aggs = self.es.search(index=self.names.conversations, body=body)["aggregations"]
        return reports.figures_from(aggs), aggs

    def build(self, kind: Kind, channel_id: str, start: dt.date, now: dt.datetime | None = None) -> Report:
        rules = self.rules(channel_id)
        period = self.period(kind, channel_id, start)
        calendar = Calendar.of(rules)
        target = rules.response_target_minutes * 60.0
        figures, aggs = self._figures(period)
        # Waiting too long is judged at the period's end, or now for a period still running: a
        # question asked a minute ago is not past a one-hour target because the week ends Sunday.
        as_of = min(period.end, now or dt.datetime.now(dt.UTC))
        waiting_before = calendar.past_target_before(as_of, target)
        body = reports.past_target_query(period, target, waiting_before)
        past = reports.past_target_from(self.es.search(index=self.names.conversations, body=body)["aggregations"])
        oldest = [self._with_link(channel_id, c) for c in reports.oldest_from(aggs)] if kind == "daily" else []
        previous, responders = None, []
        common: list[insights.CommonTerm] = []
        velocity: list[insights.Velocity] = []
        if kind == "weekly":
            previous, _ = self._figures(period.previous())
            found = self.es.search(
                index=self.names.events, body=reports.responders_query(period, self.bridge_actor_ids)
            )
            responders = [self._with_name(channel_id, r) for r in reports.responders_from(found.body)]
            common, velocity = self._insights(period, target)
        return Report(
            kind=kind,
            channel_id=channel_id,
            channel_name=rules.name or channel_id,
            period_start=start.isoformat(),
            period_label=period.label(),
            timezone=period.timezone,
            response_target_minutes=rules.response_target_minutes,
            figures=figures,
            past_target=past,
            oldest_open=oldest,
            previous=previous,
            responders=responders,
            text_kept=self.text_kept,
            common_requests=common,
            velocity=velocity,
        )

    def _insights(self, period: Period, target: float) -> tuple[list[insights.CommonTerm], list[insights.Velocity]]:
        common: list[insights.CommonTerm] = []
        if self.text_kept:
            found = self.es.search(index=self.names.conversations, body=insights.common_requests_query(period))
            common = insights.common_requests_from(found["aggregations"])
        found = self.es.search(index=self.names.conversations, body=insights.velocity_query(period, target))
        velocity = [self._velocity_named(period.channel_id, v) for v in insights.velocity_from(found["aggregations"])]
        return common, velocity

    def _velocity_named(self, channel_id: str, v: insights.Velocity) -> insights.Velocity:
        named = self._with_name(channel_id, reports.Responder(v.responder_id, v.solved))
        return replace(v, name=named.name)

    def client(self, channel_id: str) -> WebClient:
        """The client with the bot token of the monitored channel's workspace (its report channel
        is in the same workspace)."""
        if self.slack is None:
            raise RuntimeError("no Slack token configured (THREADLINE_REPORTER_SLACK_BOT_TOKEN)")
        return self.slack.for_team(self.slack.team_of(self.es, self.names.conversations, channel_id), channel_id)

    def _with_link(self, channel_id: str, c: reports.OpenConversation) -> reports.OpenConversation:
        if self.slack is None or not c.thread_ts:
            return c
        try:
            link = self.client(channel_id).chat_getPermalink(channel=channel_id, message_ts=c.thread_ts)["permalink"]
        except (SlackApiError, UnknownWorkspace):
            return c
        return reports.OpenConversation(c.conversation_id, c.opened_at, c.ticket_id, c.thread_ts, c.status, link)

    def _with_name(self, channel_id: str, r: reports.Responder) -> reports.Responder:
        if r.name or self.slack is None or r.id[:1] not in ("U", "W"):
            return r
        try:
            user = self.client(channel_id).users_info(user=r.id)["user"]
        except (SlackApiError, UnknownWorkspace):
            return r
        return reports.Responder(r.id, r.messages, user.get("real_name") or user.get("name"))

    # --- posting once ---------------------------------------------------------------------

    def post(self, kind: Kind, channel_id: str, start: dt.date, now: dt.datetime | None = None) -> Posted:
        rules = self.rules(channel_id)
        target = rules.report_channel if rules.report_channel is not None else channel_id
        if not target:
            return Posted("disabled")
        slack = self.client(channel_id)  # before the claim: a workspace without a token claims nothing
        period = self.period(kind, channel_id, start)
        now = now or dt.datetime.now(dt.UTC)
        marker_id = doc_id(period.key)
        claim = self._claim(marker_id, period, now)
        if claim is None:
            current = self.es.get(index=self.names.reports_index, id=marker_id)["_source"]
            posted_at = current.get("posted_at")
            stale = posted_at is not None and now - parse_time(posted_at) >= self.stale_claim
            if current.get("state") == "posted" and kind == "weekly" and stale:
                # posted, but whoever posted it died before the chart went up
                self._ensure_chart(
                    slack, kind, channel_id, start, current["slack_channel"], current["slack_ts"], marker_id
                )
            state = "already_posted" if current.get("state") in ("posted", "complete") else "in_progress"
            return Posted(state, current.get("slack_channel"), current.get("slack_ts"))
        try:
            ts = self._find_posted(slack, target, period)
            if ts is None:
                report = self.build(kind, channel_id, start, now)
                ts = self._send(slack, target, period, report)
                status = "posted"
            else:
                status = "already_posted"
            self._mark(marker_id, state="posted", slack_channel=target, slack_ts=ts, posted_at=format_time(now))
            if kind == "weekly":
                self._ensure_chart(slack, kind, channel_id, start, target, ts, marker_id)
            else:
                self._mark(marker_id, state="complete")
        except Exception:
            # Let the next attempt (this replica's or another's) claim it again.
            self._release(marker_id)
            raise
        return Posted(status, target, ts)

    def _claim(self, marker_id: str, period: Period, now: dt.datetime) -> bool | None:
        doc = {
            "kind": period.kind,
            "channel_id": period.channel_id,
            "period": period.start_date.isoformat(),
            "state": "claimed",
            "claimed_at": format_time(now),
            "owner": self.owner,
        }
        try:
            self.es.index(index=self.names.reports_index, id=marker_id, document=doc, op_type="create", refresh=True)
            return True
        except ConflictError:
            pass
        current = self.es.get(index=self.names.reports_index, id=marker_id)
        source = current["_source"]
        claimed_at = parse_time(source["claimed_at"])
        if source.get("state") != "claimed" or now - claimed_at < self.stale_claim:
            return None
        try:  # the holder died mid-way: take over, unless another replica just did
            self.es.index(
                index=self.names.reports_index,
                id=marker_id,
                document=doc,
                if_seq_no=current["_seq_no"],
                if_primary_term=current["_primary_term"],
                refresh=True,
            )
            return True
        except ConflictError:
            return None

    def _mark(self, marker_id: str, **fields: Any) -> None:
        self.es.update(index=self.names.reports_index, id=marker_id, doc=fields, refresh=True)

    def _release(self, marker_id: str) -> None:
        try:
            current = self.es.get(index=self.names.reports_index, id=marker_id)
            if current["_source"].get("state") == "claimed":
                self.es.delete(
                    index=self.names.reports_index,
                    id=marker_id,
                    if_seq_no=current["_seq_no"],
                    if_primary_term=current["_primary_term"],
                    refresh=True,
                )
        except (NotFoundError, ConflictError):
            pass
        except Exception:
            log.warning("could not release the claim on report %s; it expires on its own", marker_id)

    def _in_channel(self, slack: WebClient, method: Any, **kwargs: Any) -> Any:
        """A call in the report channel. In a public channel the app was never invited to, Slack
        answers not_in_channel (reading its history comes first): the app joins it by itself
        and calls again. A private channel it is not in stays an error (channel_not_found)."""
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            if exc.response.get("error") != "not_in_channel":
                raise
        log.info("joining %s to post reports there: Threadline was not invited to it", kwargs["channel"])
        slack.conversations_join(channel=kwargs["channel"])
        return method(**kwargs)

    def _find_posted(self, slack: WebClient, channel: str, period: Period) -> str | None:
        """The ts of this report in the channel, found by its metadata, if it is there already."""
        cursor = None
        while True:
            page = self._in_channel(
                slack,
                slack.conversations_history,
                channel=channel,
                oldest=str(period.start.timestamp()),
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in page["messages"]:
                meta = message.get("metadata") or {}
                if (
                    meta.get("event_type") == REPORT_EVENT_TYPE
                    and (meta.get("event_payload") or {}).get("report") == period.key
                ):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None

    def _send(self, slack: WebClient, channel: str, period: Period, report: Report) -> str:
        response = self._in_channel(
            slack,
            slack.chat_postMessage,
            channel=channel,
            text=reports.fallback_text(report),
            blocks=reports.blocks(report),
            metadata={
                "event_type": REPORT_EVENT_TYPE,
                "event_payload": {"report": period.key, "kind": period.kind, "channel_id": period.channel_id},
            },
            unfurl_links=False,
        )
        log.info("posted the %s report of %s for %s", period.kind, period.channel_id, period.start_date)
        return str(response["ts"])

    def _ensure_chart(
        self, slack: WebClient, kind: Kind, channel_id: str, start: dt.date, channel: str, ts: str, marker_id: str
    ) -> None:
        """The chart goes in the report's thread, once: a thread that already has a file is done."""
        replies = self._in_channel(slack, slack.conversations_replies, channel=channel, ts=ts)["messages"]
        if not any(m.get("files") for m in replies if m.get("ts") != ts):
            report = self.build(kind, channel_id, start)
            slack.files_upload_v2(
                channel=channel,
                thread_ts=ts,
                file=weekly_chart(report),
                filename=f"threadline-weekly-{channel_id}-{start.isoformat()}.png",
                title=f"Conversations and first response times, {report.period_label}",
            )
        self._mark(marker_id, state="complete")
