"""The PagerDuty sandbox: the few REST API v2 endpoints Threadline uses (on-calls and users)."""

from threadline_sandbox.pagerduty.server import DEFAULT_SEED, PagerDutySandbox

__all__ = ["DEFAULT_SEED", "PagerDutySandbox"]
