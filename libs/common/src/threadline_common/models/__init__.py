"""Pydantic models of the topic payloads, generated from schemas/json (`make models`)."""
