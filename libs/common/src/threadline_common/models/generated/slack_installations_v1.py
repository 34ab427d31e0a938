# Generated from schemas/json/threadline.slack.installations.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct


class SlackInstallationRecord(Struct):
    """
    One Slack install of the app (keyed <enterprise_id or ->/<team_id or ->). The installation itself is a Fernet token: slack_sdk's Installation.to_dict() as JSON, encrypted with THREADLINE_SLACK_INSTALLATIONS_KEY.
    """

    format: Annotated[
        Literal['fernet'], Meta(description='How `installation` is encrypted.')
    ]
    enterprise_id: Annotated[str, Meta(description='The Enterprise Grid organisation, if any (in the clear: the key).')] | None
    team_id: Annotated[str, Meta(description='The workspace; null for an org-wide install.')] | None
    is_enterprise_install: bool
    installed_at: Annotated[float, Meta(description='Unix time of the install.')]
    installation: Annotated[
        str,
        Meta(description="The Fernet token of the installation's JSON.", min_length=1),
    ]
