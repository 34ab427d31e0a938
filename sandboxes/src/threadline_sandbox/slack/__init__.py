from threadline_sandbox.slack.server import SlackSandbox

__all__ = ["SlackSandbox"]
