"""The error a Web API method answers: Slack's `{"ok": false, "error": ...}`, its HTTP status and headers."""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """A method's documented error; `messages` detail invalid_arguments as Slack does."""

    def __init__(
        self,
        error: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        messages: list[str] | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error, self.status, self.headers, self.messages = error, status, headers or {}, messages or []
        self.extra = extra or {}  # e.g. missing_scope's `needed` and `provided`

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:  # Slack details invalid_arguments in response_metadata.messages
            body["response_metadata"] = {"messages": self.messages}
        return body
