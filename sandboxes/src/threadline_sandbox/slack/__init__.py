from threadline_sandbox.slack.server import SlackSandbox, sign

__all__ = ["SlackSandbox", "sign"]
