"""The HTTP routes, one module per source: every webhook router is a `source_router`, so its
routes are verified by construction (verification.py); health.py serves the probes, unverified."""
