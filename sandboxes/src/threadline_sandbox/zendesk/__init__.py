"""The Zendesk sandbox: a local Zendesk account for the unmodified zenpy client."""

from threadline_sandbox.zendesk.client import zenpy_client, zenpy_env
from threadline_sandbox.zendesk.events import signature
from threadline_sandbox.zendesk.knobs import Knobs
from threadline_sandbox.zendesk.model import ZendeskError
from threadline_sandbox.zendesk.server import ZendeskSandbox

__all__ = ["Knobs", "ZendeskError", "ZendeskSandbox", "signature", "zenpy_client", "zenpy_env"]
