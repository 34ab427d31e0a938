# Generated from schemas/json/threadline.commands.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, constr


class Type(Enum):
    zendesk_create_ticket = 'zendesk.create_ticket'
    zendesk_add_comment = 'zendesk.add_comment'
    zendesk_set_status = 'zendesk.set_status'
    slack_post_message = 'slack.post_message'
    slack_post_agent_comment = 'slack.post_agent_comment'
    slack_open_thread = 'slack.open_thread'


class Command(BaseModel):
    model_config = ConfigDict(
        extra='allow',
    )
    schema_version: Literal[1]
    type: Type
    command_id: constr(min_length=1)
    conversation_id: constr(min_length=1)
    issued_at: str
