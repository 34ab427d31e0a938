"""Threadline ingest: verified Slack and Zendesk requests into Kafka, answered 200 only once the
broker has them. Entry point: `python -m threadline_ingest` (or the `threadline-ingest` script)."""
