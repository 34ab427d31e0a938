"""Files shared in Slack carried to Zendesk: downloaded with the bot token, uploaded as
attachments of the comment that shows them.

A file too large or not downloadable stays in Slack with a note. An upload's token is kept, so a
retry of the same comment sends the same attachment instead of uploading it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import requests

from threadline_common.models.generated.commands_v4 import SlackFile
from threadline_common.retry import TransientError
from threadline_zendesk_sync.lru import LRU
from threadline_zendesk_sync.settings import ZendeskSyncSettings
from threadline_zendesk_sync.zendesk_client import Zendesk


class FileTransfer:
    def __init__(self, settings: ZendeskSyncSettings, zendesk: Zendesk, token: Callable[[], str] | None = None) -> None:
        single = settings.slack_bot_token.get_secret_value()
        # The acting team's bot token (Slack.token), the single one by default.
        self.token = token or (lambda: single)
        self.max_bytes = settings.max_file_bytes
        self.zendesk = zendesk
        self.reset_caches()

    def reset_caches(self) -> None:
        self.upload_tokens = LRU()  # slack file id -> zendesk upload token (a retry sends the same body)

    async def carry(self, files: list[SlackFile]) -> tuple[list[str], list[str]]:
        """Upload Slack files to Zendesk: (upload tokens, notes about files that did not make it)."""
        tokens: list[str] = []
        notes: list[str] = []
        for f in files:
            name = f.name or f.id
            if f.id in self.upload_tokens:
                tokens.append(self.upload_tokens[f.id])
                continue
            content = await self.download(f)
            if content is None:
                notes.append(f"{name}: could not be downloaded from Slack")
                continue
            token = await self.zendesk.upload(content, name, f.mimetype or "application/octet-stream")
            self.upload_tokens.put(f.id, token)
            tokens.append(token)
        return tokens, notes

    async def download(self, f: SlackFile) -> bytes | None:
        """The file's bytes; None when Slack would not give them or they are over the limit."""
        url, limit = str(f.url_private), self.max_bytes

        def get() -> bytes | None:
            with requests.get(
                url, headers={"Authorization": f"Bearer {self.token()}"}, stream=True, timeout=30
            ) as response:
                # Without a valid token Slack answers 200 with its sign-in page.
                if response.status_code != 200 or response.headers.get("content-type", "").startswith("text/html"):
                    return None
                content: bytes = response.raw.read(limit + 1, decode_content=True)
                return None if len(content) > limit else content

        try:
            return await asyncio.to_thread(get)
        except requests.RequestException as exc:
            raise TransientError(f"Slack file unreachable: {type(exc).__name__}") from exc
