from threadline_sandbox.zendesk.server import ZendeskSandbox

__all__ = ["ZendeskSandbox"]
