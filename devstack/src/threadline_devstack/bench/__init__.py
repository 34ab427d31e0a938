"""`make bench`: Threadline's figures, each beside a baseline measured in the same run.

One module per figure (ingest, pipeline, end_to_end, scale, indexing, reports); `__main__`
runs them within a time budget and writes bench/results/latest.json and latest.md. Every
figure runs against the local stack (`make infra`: real Kafka and Elasticsearch) under its own
topic prefix and index prefix, with the services started as processes the way `make up`
starts them, and the Slack and Zendesk sandboxes without added latency.
"""
