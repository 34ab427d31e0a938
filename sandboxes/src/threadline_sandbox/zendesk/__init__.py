"""The Zendesk sandbox: a local Zendesk account for the unmodified zenpy client."""

from threadline_sandbox.zendesk.client import zenpy_client
from threadline_sandbox.zendesk.server import ZendeskSandbox

__all__ = ["ZendeskSandbox", "zenpy_client"]
