"""The reporter's Kibana saved objects (pure): two data views, Lens charts and one dashboard.

`threadline.ndjson` beside this module is what `saved_objects()` returns, one object a line;
`python -m threadline_reporter kibana export > .../threadline.ndjson` writes it again after a
change here (a test checks that the two agree). Everything is written for the default index
prefix; `for_prefix` renames ids and data view titles for another one.

Lens charts are by-reference `lens` objects (formBased datasource, Kibana 8.9 and later), each
layer naming its data view through a reference, and the dashboard names its panels the same
way, as Kibana's own export does.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from threadline_reporter.insights import COMMON_TERMS

DEFAULT_PREFIX = "threadline-"
EVENTS_VIEW = f"{DEFAULT_PREFIX}events"
CONVERSATIONS_VIEW = f"{DEFAULT_PREFIX}conversations"
DASHBOARD = f"{DEFAULT_PREFIX}support-dashboard"
CORE_MIGRATION_VERSION = "8.8.0"
# The newest migration each type's objects are written for: Kibana migrates them from there.
TYPE_MIGRATION_VERSION = {"index-pattern": "8.0.0", "lens": "8.9.0", "dashboard": "8.7.0"}
# What messages people write, as a KQL filter on the events data view (reactions, edits, notes out):
# documents.is_message, the e-mail that opened an emailed ticket included.
MESSAGES_KQL = (
    "(type : (message or reply or comment) or (type : ticket_created and source : email))"
    " and public : true and not actor.role : bot"
)
# Status changes that solve (or close) an open ticket, and that reopen a solved or closed one.
SOLVES_KQL = "type : status_change and status : (solved or closed) and not previous_status : (solved or closed)"
REOPENS_KQL = "type : status_change and previous_status : (solved or closed) and not status : (solved or closed)"

Column = dict[str, Any]


# --- columns ----------------------------------------------------------------------------------


def _kql(query: str | None) -> dict[str, Any]:
    return {} if query is None else {"filter": {"language": "kuery", "query": query}}


def date_histogram(field: str, label: str) -> Column:
    return {
        "label": label,
        "customLabel": True,
        "dataType": "date",
        "operationType": "date_histogram",
        "sourceField": field,
        "isBucketed": True,
        "scale": "interval",
        "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False},
    }


def terms(field: str, label: str, size: int, order_by: str | None = None, missing: bool = False) -> Column:
    """Top values of a keyword field, by the metric column `order_by` (else alphabetically);
    `missing`: documents without the field make a row of their own instead of none."""
    order: dict[str, Any] = (
        {"type": "column", "columnId": order_by} if order_by else {"type": "alphabetical", "fallback": False}
    )
    return {
        "label": label,
        "customLabel": True,
        "dataType": "string",
        "operationType": "terms",
        "sourceField": field,
        "isBucketed": True,
        "scale": "ordinal",
        "params": {
            "size": size,
            "orderBy": order,
            "orderDirection": "desc" if order_by else "asc",
            "otherBucket": True,
            "missingBucket": missing,
            "parentFormat": {"id": "terms"},
            "include": [],
            "exclude": [],
            "includeIsRegex": False,
            "excludeIsRegex": False,
        },
    }


def significant_terms(field: str, label: str, size: int) -> Column:
    """Top values of a keyword field ranked by significance (Lens's "Rank by: Significance", an
    Elasticsearch `significant_terms` bucket): the values that stand out in the rows above it (a
    channel, in the dashboard's time range) against the whole index. Kibana offers it for one
    keyword field, without an "Other" row, and sends no `min_doc_count`: Elasticsearch's default, 3."""
    column = terms(field, label, size)
    column["params"].update(orderBy={"type": "significant"}, orderDirection="desc", otherBucket=False)
    return column


def count(label: str, kql: str | None = None) -> Column:
    return {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": "count",
        "sourceField": "___records___",
        "isBucketed": False,
        "scale": "ratio",
        "params": {"emptyAsNull": False},
        **_kql(kql),
    }


def metric(operation: str, field: str, label: str, kql: str | None = None, percentile: int | None = None) -> Column:
    """median, percentile, sum, average, max of a numeric field."""
    params: dict[str, Any] = {"emptyAsNull": True}
    if percentile is not None:
        params = {"percentile": percentile}
    return {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": operation,
        "sourceField": field,
        "isBucketed": False,
        "scale": "ratio",
        "params": params,
        **_kql(kql),
    }


# --- objects ----------------------------------------------------------------------------------


def _seconds_format() -> dict[str, Any]:
    return {
        "id": "duration",
        "params": {"inputFormat": "seconds", "outputFormat": "humanizePrecise", "outputPrecision": 1},
    }


def data_view(view_id: str, name: str, time_field: str, seconds_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """A data view on one of the reporter's aliases (its title is the alias name); durations in
    seconds are shown as durations wherever a chart uses the field."""
    return {
        "type": "index-pattern",
        "id": view_id,
        "attributes": {
            "title": view_id,
            "name": name,
            "timeFieldName": time_field,
            "fields": "[]",
            "fieldAttrs": "{}",
            "fieldFormatMap": json.dumps({f: _seconds_format() for f in seconds_fields}, sort_keys=True),
            "runtimeFieldMap": "{}",
            "sourceFilters": "[]",
            "typeMeta": "{}",
            "allowNoIndex": True,
        },
        "references": [],
    }


def lens(
    object_id: str,
    title: str,
    view: str,
    columns: dict[str, Column],
    visualization_type: str,
    visualization: dict[str, Any],
    description: str = "",
    query: str = "",
) -> dict[str, Any]:
    """A Lens chart; `query`: the KQL the whole chart is filtered by (a column's own filter only
    changes that column: the chart's rows would still be every value of its buckets)."""
    layer = f"{object_id}-layer"
    buckets = [c for c, col in columns.items() if col["isBucketed"]]
    metrics = [c for c, col in columns.items() if not col["isBucketed"]]
    return {
        "type": "lens",
        "id": object_id,
        "attributes": {
            "title": title,
            "description": description,
            "visualizationType": visualization_type,
            "state": {
                "datasourceStates": {
                    "formBased": {
                        "layers": {
                            layer: {"columns": columns, "columnOrder": buckets + metrics, "incompleteColumns": {}}
                        }
                    }
                },
                "visualization": {"layerId": layer, **visualization}
                if visualization_type != "lnsXY"
                else {**visualization, "layers": [{"layerId": layer, **visualization["layers"][0]}]},
                "query": {"language": "kuery", "query": query},
                "filters": [],
                "internalReferences": [],
                "adHocDataViews": {},
            },
        },
        "references": [{"type": "index-pattern", "id": view, "name": f"indexpattern-datasource-layer-{layer}"}],
    }


def xy(series: str, x: str, accessors: list[str], split: str | None = None) -> dict[str, Any]:
    layer: dict[str, Any] = {"layerType": "data", "seriesType": series, "xAccessor": x, "accessors": accessors}
    if split:
        layer["splitAccessor"] = split
    return {
        "preferredSeriesType": series,
        "legend": {"isVisible": True, "position": "bottom"},
        "valueLabels": "hide",
        "fittingFunction": "None",
        "axisTitlesVisibilitySettings": {"x": True, "yLeft": True, "yRight": True},
        "layers": [layer],
    }


def table(columns: list[str]) -> dict[str, Any]:
    return {"layerType": "data", "columns": [{"columnId": c, "isTransposed": False} for c in columns]}


def duration_chart(object_id: str, title: str, measure: str) -> dict[str, Any]:
    """A duration of the conversations opened each day: median, 90th percentile, median in business hours."""
    return lens(
        object_id,
        title,
        CONVERSATIONS_VIEW,
        {
            "day": date_histogram("opened_at", "Opened"),
            "median": metric("median", f"{measure}_seconds", "Median"),
            "p90": metric("percentile", f"{measure}_seconds", "90th percentile", percentile=90),
            "business": metric("median", f"{measure}_business_seconds", "Median, business hours"),
        },
        "lnsXY",
        xy("line", "day", ["median", "p90", "business"]),
    )


def charts() -> list[dict[str, Any]]:
    """The dashboard's charts, top to bottom."""
    conv, events = CONVERSATIONS_VIEW, EVENTS_VIEW
    p = DEFAULT_PREFIX
    return [
        lens(
            f"{p}conversations-opened",
            "Conversations opened, by channel",
            conv,
            {
                "channel": terms("channel_id", "Channel", 10, order_by="opened"),
                "day": date_histogram("opened_at", "Opened"),
                "opened": count("Conversations"),
            },
            "lnsXY",
            xy("bar_stacked", "day", ["opened"], split="channel"),
        ),
        lens(
            f"{p}backlog",
            "Still open",
            conv,
            {"open": count("Open conversations", "is_open : true")},
            "lnsMetric",
            {"layerType": "data", "metricAccessor": "open"},
            description="Conversations opened within the time range that are not solved or closed.",
        ),
        lens(
            f"{p}backlog-by-channel",
            "Open conversations by channel and status",
            conv,
            {
                "channel": terms("channel_id", "Channel", 20, order_by="open"),
                "status": terms("status", "Status", 5, order_by="open"),
                "open": count("Open conversations", "is_open : true"),
            },
            "lnsXY",
            xy("bar_horizontal_stacked", "channel", ["open"], split="status"),
        ),
        duration_chart(f"{p}first-response", "Time to first response", "time_to_first_response"),
        duration_chart(f"{p}resolution", "Time to resolution", "time_to_resolution"),
        lens(
            f"{p}by-channel",
            "By channel",
            conv,
            {
                "channel": terms("channel_id", "Channel", 50, order_by="opened"),
                "opened": count("Conversations"),
                "open": count("Still open", "is_open : true"),
                "ttfr": metric("median", "time_to_first_response_seconds", "Median first response"),
                "ttr": metric("median", "time_to_resolution_seconds", "Median resolution"),
                "reopened": metric("sum", "reopened_count", "Reopened"),
                "messages": metric("sum", "message_count", "Messages"),
            },
            "lnsDatatable",
            table(["channel", "opened", "open", "ttfr", "ttr", "reopened", "messages"]),
        ),
        lens(
            f"{p}by-responder",
            "First responses by responder",
            conv,
            {
                "responder": terms("first_responder_id", "Responder", 20, order_by="responses"),
                "responses": count("First responses", "first_responder_id : *"),
                "ttfr": metric("median", "time_to_first_response_seconds", "Median first response"),
                "business": metric("median", "time_to_first_response_business_seconds", "Median, business hours"),
            },
            "lnsDatatable",
            table(["responder", "responses", "ttfr", "business"]),
        ),
        # Team velocity, as in the weekly report: conversations solved, per channel and responder
        # who answered in them. Past-target counts stay in the report: each channel has its own target.
        lens(
            f"{p}velocity",
            "Team velocity: solved by responder (business hours)",
            conv,
            {
                "channel": terms("channel_id", "Channel", 20, order_by="solved"),
                "responder": terms("responders", "Responder", 20, order_by="solved"),
                "solved": count("Solved", "resolved_at : *"),
                "ttfr": metric(
                    "median", "time_to_first_response_business_seconds", "Median first response", "resolved_at : *"
                ),
                "ttr": metric("median", "time_to_resolution_business_seconds", "Median resolution", "resolved_at : *"),
            },
            "lnsDatatable",
            table(["channel", "responder", "solved", "ttfr", "ttr"]),
        ),
        lens(
            f"{p}responder-messages",
            "Messages by responder",
            events,
            {
                "responder": terms("actor.id", "Responder", 20, order_by="messages"),
                # Slack's side names nobody (ids only): without the missing bucket a Slack
                # responder would have no row at all.
                "name": terms("actor.name", "Name", 1, order_by="messages", missing=True),
                "messages": count("Messages"),
            },
            "lnsDatatable",
            table(["responder", "name", "messages"]),
            query=f"{MESSAGES_KQL} and actor.role : (responder or agent)",
        ),
        lens(
            f"{p}messages",
            "Messages per day, by side",
            events,
            {
                "source": terms("source", "Written in", 3, order_by="messages"),
                "day": date_histogram("occurred_at", "Day"),
                "messages": count("Messages", MESSAGES_KQL),
            },
            "lnsXY",
            xy("bar_stacked", "day", ["messages"], split="source"),
        ),
        lens(
            f"{p}status-origin",
            "Solves and reopens, by where they were done",
            events,
            {
                "via": terms("via", "Done in", 10, order_by="solves"),
                "solves": count("Solves", SOLVES_KQL),
                "reopens": count("Reopens", REOPENS_KQL),
            },
            "lnsDatatable",
            table(["via", "solves", "reopens"]),
            description="Each solve, close or reopen once, where it was done: a Slack emoji, button or "
            "typed word, a requester's reply, an automatic answer, or Zendesk (an agent or an automation).",
        ),
        # Common requests, as in the weekly report: the words of the questions that stand out in a
        # channel against every question indexed. Lens has no significant_text, so the reporter
        # indexes each question's words as a keyword array (`question_terms`, with the question:
        # none with TEXT_MODE=drop).
        lens(
            f"{p}common-requests",
            "Common requests, by channel",
            conv,
            {
                "channel": terms("channel_id", "Channel", 20, order_by="questions"),
                "term": significant_terms("question_terms", "Term", COMMON_TERMS),
                "questions": count("Questions"),
            },
            "lnsDatatable",
            table(["channel", "term", "questions"]),
            description="The words of the questions asked in the time range that stand out against every "
            "question indexed, per channel, with the number of questions holding each (three or more).",
        ),
        lens(
            f"{p}answers-deflection",
            "Automatic answers: deflection, by channel",
            conv,
            {
                "channel": terms("channel_id", "Channel", 50, order_by="opened"),
                "opened": count("Requests"),
                "offered": count("Offered an answer", "answer_offered : true"),
                "deflected": count("Solved by an answer", "solved_by_answer : true"),
                "more": count("Still needed help", "answer_feedback : more"),
            },
            "lnsDatatable",
            table(["channel", "opened", "offered", "deflected", "more"]),
            description="Requests an automatic answer solved (deflection), and how often one was offered.",
        ),
        lens(
            f"{p}answer-rules",
            "Automatic answers: by rule",
            conv,
            {
                "rule": terms("answer_rules", "Rule", 50, order_by="offered"),
                "offered": count("Offered"),
                "deflected": count("Solved by an answer", "solved_by_answer : true"),
            },
            "lnsDatatable",
            table(["rule", "offered", "deflected"]),
            description="A rule offered often and never solving a request is a rule to rewrite or remove.",
        ),
    ]


# Where each chart sits on the dashboard's 48-column grid: (x, y, w, h).
LAYOUT = [(0, 0, 36, 12), (36, 0, 12, 12), (0, 12, 24, 14), (24, 12, 24, 14), (0, 26, 24, 14), (24, 26, 24, 14),
          (0, 40, 24, 16), (24, 40, 24, 16), (0, 56, 48, 14), (0, 70, 48, 12), (0, 82, 24, 14),
          (24, 82, 24, 14), (0, 96, 48, 14), (0, 110, 48, 14)]  # fmt: skip


def dashboard(panels: list[dict[str, Any]]) -> dict[str, Any]:
    layout = []
    for i, (_, (x, y, w, h)) in enumerate(zip(panels, LAYOUT, strict=True)):
        layout.append(
            {
                "version": "8.7.0",
                "type": "lens",
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": str(i + 1)},
                "panelIndex": str(i + 1),
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": f"panel_{i}",
            }
        )
    return {
        "type": "dashboard",
        "id": DASHBOARD,
        "attributes": {
            "title": "Threadline support",
            "description": "Volume, backlog, response and resolution times, by channel and by responder; "
            "common requests; automatic answers' deflection. "
            "The same documents as the daily and weekly reports in Slack.",
            "panelsJSON": json.dumps(layout, sort_keys=True),
            "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
            "timeRestore": True,
            "timeFrom": "now-30d",
            "timeTo": "now",
            "refreshInterval": {"pause": True, "value": 60000},
            "version": 1,
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps({"query": {"language": "kuery", "query": ""}, "filter": []})
            },
        },
        "references": [{"type": "lens", "id": c["id"], "name": f"panel_{i}"} for i, c in enumerate(panels)],
    }


def saved_objects() -> list[dict[str, Any]]:
    seconds = (
        "time_to_first_response_seconds",
        "time_to_first_response_business_seconds",
        "time_to_resolution_seconds",
        "time_to_resolution_business_seconds",
    )
    panels = charts()
    objects = [
        data_view(EVENTS_VIEW, "Threadline events", "occurred_at"),
        data_view(CONVERSATIONS_VIEW, "Threadline conversations", "opened_at", seconds),
        *panels,
        dashboard(panels),
    ]
    for obj in objects:
        obj["coreMigrationVersion"] = CORE_MIGRATION_VERSION
        obj["typeMigrationVersion"] = TYPE_MIGRATION_VERSION[obj["type"]]
    return objects


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(o, sort_keys=True, ensure_ascii=False) + "\n" for o in objects)


def for_prefix(objects: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The objects for another index prefix: ids (so that deployments sharing a Kibana keep their
    own), references, data view titles (the aliases `<prefix>events`, `<prefix>conversations`)."""
    if prefix == DEFAULT_PREFIX:
        return objects

    def rename(value: str) -> str:
        return prefix + value[len(DEFAULT_PREFIX) :] if value.startswith(DEFAULT_PREFIX) else value

    renamed = []
    for original in objects:
        obj = copy.deepcopy(original)
        obj["id"] = rename(obj["id"])
        for ref in obj.get("references", []):
            ref["id"] = rename(ref["id"])
        if obj["type"] == "index-pattern":
            obj["attributes"]["title"] = rename(obj["attributes"]["title"])
        if obj["type"] == "dashboard":
            obj["attributes"]["title"] += f" ({prefix.rstrip('-_.')})"
        renamed.append(obj)
    return renamed
