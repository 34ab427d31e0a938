"""The numbers a Kibana dashboard panel shows, computed from Elasticsearch without Kibana.

Kibana cannot run on these machines, so the truth test runs each Lens chart of the reporter's
saved objects as the aggregation Kibana would send: its bucket columns (terms, date histogram)
nested in column order, its metric columns (count, median, percentile, sum, average) at the
leaves, each column's KQL filter as a filter aggregation, the chart's own KQL query as the query
(a terms column ranked by significance is a significant_terms bucket, as Kibana sends it). The
filters the charts use are plain field:value terms joined by and/or/not, which Lucene's
query_string reads once the operators are upper case. The panel's rows come back as {column id: value}, one per bucket combination.
"""

from __future__ import annotations

import re
from typing import Any

from elasticsearch import Elasticsearch

# KQL's operators -> Lucene's (query_string); "field : value" -> "field:value".
_OPERATORS = ((re.compile(r"\s*:\s*"), ":"), (re.compile(r"\band\b"), "AND"), (re.compile(r"\bor\b"), "OR"))
_NOT = re.compile(r"\bnot\b")
MISSING = "(missing value)"


def kql_to_lucene(kql: str) -> str:
    query = kql
    for pattern, replacement in _OPERATORS:
        query = pattern.sub(replacement, query)
    return _NOT.sub("NOT", query)


def _metric(column: dict[str, Any]) -> dict[str, Any] | None:
    operation, field = column["operationType"], column.get("sourceField")
    if operation == "count":
        return None  # the bucket's (or the filter's) doc_count
    if operation == "median":
        return {"percentiles": {"field": field, "percents": [50]}}
    if operation == "percentile":
        return {"percentiles": {"field": field, "percents": [column["params"]["percentile"]]}}
    if operation in ("sum", "max", "min"):
        return {operation: {"field": field}}
    if operation == "average":
        return {"avg": {"field": field}}
    raise ValueError(f"no aggregation for Lens operation {operation!r}")


def _bucket(column: dict[str, Any]) -> dict[str, Any]:
    if column["operationType"] == "terms" and column["params"]["orderBy"]["type"] == "significant":
        # Lens's "Rank by: Significance": a significant_terms bucket with the column's size and no
        # other parameter (Elasticsearch's defaults: JLH, min_doc_count 3, the whole index as background).
        return {"significant_terms": {"field": column["sourceField"], "size": column["params"]["size"]}}
    if column["operationType"] == "terms":
        terms = {"field": column["sourceField"], "size": column["params"]["size"]}
        if column["params"].get("missingBucket"):
            terms["missing"] = MISSING  # Kibana's "(missing value)" row
        return {"terms": terms}
    if column["operationType"] == "date_histogram":
        return {"date_histogram": {"field": column["sourceField"], "calendar_interval": "day"}}
    raise ValueError(f"no bucket for Lens operation {column['operationType']!r}")


def _metric_aggs(metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for name, column in metrics.items():
        inner = _metric(column)
        query = (column.get("filter") or {}).get("query")
        if query:
            aggs[name] = {"filter": {"query_string": {"query": kql_to_lucene(query)}}}
            if inner is not None:
                aggs[name]["aggs"] = {"value": inner}
        elif inner is not None:
            aggs[name] = inner
    return aggs


def _value(column: dict[str, Any], name: str, bucket: dict[str, Any]) -> Any:
    filtered = (column.get("filter") or {}).get("query")
    holder = bucket[name] if filtered else bucket
    if column["operationType"] == "count":
        return holder["doc_count"]
    agg = holder["value"] if filtered else holder[name]
    if "values" in agg:
        return next(iter(agg["values"].values()))
    return agg["value"]


def panel_rows(
    es: Elasticsearch, objects: list[dict[str, Any]], chart_id: str, time_filter: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The rows the chart `chart_id` of `objects` (the saved objects, for the index prefix in use) shows;
    `time_filter`: the dashboard's time range as a query clause (a range on the data view's time field)."""
    by_id = {o["id"]: o for o in objects}
    chart = by_id[chart_id]
    [layer] = chart["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
    [view] = [by_id[r["id"]] for r in chart["references"] if r["type"] == "index-pattern"]
    columns = layer["columns"]
    buckets = [c for c in layer["columnOrder"] if columns[c]["isBucketed"]]
    metrics = {c: columns[c] for c in layer["columnOrder"] if not columns[c]["isBucketed"]}

    aggs: dict[str, Any] = _metric_aggs(metrics)
    for name in reversed(buckets):
        aggs = {name: {**_bucket(columns[name]), **({"aggs": aggs} if aggs else {})}}
    kql = chart["attributes"]["state"]["query"]["query"]
    query = {"query_string": {"query": kql_to_lucene(kql)}} if kql else {"match_all": {}}
    if time_filter is not None:
        query = {"bool": {"must": [query], "filter": [time_filter]}}
    answer = es.search(index=view["attributes"]["title"], size=0, query=query, aggs=aggs, track_total_hits=True)

    rows: list[dict[str, Any]] = []

    def walk(level: int, bucket: dict[str, Any], row: dict[str, Any]) -> None:
        if level == len(buckets):
            rows.append({**row, **{name: _value(column, name, bucket) for name, column in metrics.items()}})
            return
        name = buckets[level]
        for child in bucket[name]["buckets"]:
            key = child.get("key_as_string", child["key"])
            walk(level + 1, child, {**row, name: key})

    top = dict(answer["aggregations"] or {})
    top["doc_count"] = answer["hits"]["total"]["value"]
    walk(0, top, {})
    return rows
