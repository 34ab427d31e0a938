"""The PagerDuty sandbox: the few REST API v2 endpoints Threadline uses (on-calls and users)."""

from threadline_sandbox.pagerduty.server import PagerDutySandbox

__all__ = ["PagerDutySandbox"]
