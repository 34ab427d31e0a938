"""Pydantic models of the topic records, generated from schemas/json by `make models`.

    from threadline_common.models import Command, ZendeskAddComment
    command = Command.model_validate_json(value).root   # the variant its `type` names
    if isinstance(command, ZendeskAddComment): ...

The JSON Schemas stay the contract (`threadline_common.schemas.validate`); these models give
typed access. Models are closed (extra fields are errors) except the Slack and Zendesk bodies.
"""

from pydantic import BaseModel

from threadline_common.models.generated.activity_v1 import Activity, Actor
from threadline_common.models.generated.commands_v1 import (
    Cause,
    Command,
    CommandEnvelope,
    CustomField,
    SlackAddReaction,
    SlackFile,
    SlackMessageMetadata,
    SlackOpenThread,
    SlackPerson,
    SlackPostMessage,
    ZendeskAddComment,
    ZendeskCreateFollowup,
    ZendeskCreateTicket,
    ZendeskSetStatus,
)
from threadline_common.models.generated.commands_v2 import Command as CommandV2
from threadline_common.models.generated.commands_v2 import OnCallNotify, SlackPostEphemeral, ZendeskSetPriority
from threadline_common.models.generated.links_v1 import Conversation
from threadline_common.models.generated.links_v2 import Conversation as ConversationV2
from threadline_common.models.generated.links_v3 import Conversation as ConversationV3
from threadline_common.models.generated.slack_events_v1 import EventsApiEnvelope, SlackEventRecord
from threadline_common.models.generated.sync_results_v1 import SyncResult
from threadline_common.models.generated.sync_results_v2 import SyncResult as SyncResultV2
from threadline_common.models.generated.zendesk_events_v1 import EventWebhookBody, ZendeskEventRecord

# The model of each (topic, schema version).
TOPIC_MODELS: dict[tuple[str, int], type[BaseModel]] = {
    ("threadline.slack.events", 1): SlackEventRecord,
    ("threadline.zendesk.events", 1): ZendeskEventRecord,
    ("threadline.commands", 1): Command,
    ("threadline.links", 1): Conversation,
    ("threadline.activity", 1): Activity,
    ("threadline.sync.results", 1): SyncResult,
    ("threadline.commands", 2): CommandV2,
    ("threadline.links", 2): ConversationV2,
    ("threadline.links", 3): ConversationV3,
    ("threadline.sync.results", 2): SyncResultV2,
}

__all__ = [
    "TOPIC_MODELS",
    "Activity",
    "Actor",
    "Cause",
    "Command",
    "CommandEnvelope",
    "CommandV2",
    "Conversation",
    "ConversationV2",
    "ConversationV3",
    "CustomField",
    "EventWebhookBody",
    "EventsApiEnvelope",
    "OnCallNotify",
    "SlackAddReaction",
    "SlackEventRecord",
    "SlackFile",
    "SlackMessageMetadata",
    "SlackOpenThread",
    "SlackPerson",
    "SlackPostEphemeral",
    "SlackPostMessage",
    "SyncResult",
    "SyncResultV2",
    "ZendeskAddComment",
    "ZendeskCreateFollowup",
    "ZendeskCreateTicket",
    "ZendeskEventRecord",
    "ZendeskSetPriority",
    "ZendeskSetStatus",
]
