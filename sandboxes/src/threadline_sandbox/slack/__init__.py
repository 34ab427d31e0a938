from threadline_sandbox.slack.interactive import AppResponse, CommandResponse
from threadline_sandbox.slack.server import SlackSandbox

__all__ = ["AppResponse", "CommandResponse", "SlackSandbox"]
