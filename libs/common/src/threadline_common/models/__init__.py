"""The topic records as msgspec structs, generated from schemas/json by `make models`.

    import msgspec
    from threadline_common.models import CommandV2, ZendeskAddComment
    command = msgspec.json.decode(value, type=CommandV2)   # the variant its `type` names
    if isinstance(command, ZendeskAddComment): ...

The JSON Schemas stay the contract (`threadline_common.schemas.validate`); these structs are
the types the services read and write, so a schema change shows up in `make lint` (mypy).
msgspec checks types, required fields and constraints while it decodes, in C; a field the
schema leaves optional and the record omits reads as `msgspec.UNSET` and is omitted again on
encode. Unknown fields are ignored, so a reader accepts records of a later compatible version.
Why msgspec and not pydantic: decoding and encoding the hot-path records is several times
faster (figures in tests/schemas/test_models.py's note and the README).
"""

from typing import Any, get_args, get_type_hints

from threadline_common.models.generated.activity_v1 import Activity as ActivityV1
from threadline_common.models.generated.activity_v2 import Activity, Actor
from threadline_common.models.generated.activity_v2 import Answer as ActivityAnswer
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
from threadline_common.models.generated.commands_v3 import Command as CommandV3
from threadline_common.models.generated.commands_v4 import Command as CommandV4
from threadline_common.models.generated.follows_v1 import FollowRow, PersonFollows, TicketFollowers
from threadline_common.models.generated.homes_v1 import ChannelQueue, HomeItem, HomeRow, PersonHome
from threadline_common.models.generated.links_v1 import Conversation
from threadline_common.models.generated.links_v2 import Conversation as ConversationV2
from threadline_common.models.generated.links_v3 import Conversation as ConversationV3
from threadline_common.models.generated.links_v4 import Conversation as ConversationV4
from threadline_common.models.generated.slack_events_v1 import EventsApiEnvelope, SlackEventRecord
from threadline_common.models.generated.slack_installations_v1 import SlackInstallationRecord
from threadline_common.models.generated.sync_results_v1 import SyncResult
from threadline_common.models.generated.sync_results_v2 import SyncResult as SyncResultV2
from threadline_common.models.generated.sync_results_v3 import SyncResult as SyncResultV3
from threadline_common.models.generated.sync_results_v4 import SyncResult as SyncResultV4
from threadline_common.models.generated.zendesk_events_v1 import EventWebhookBody, ZendeskEventRecord

# What threadline.activity v2 added to v1, read off the generated models (so they cannot drift
# from the schemas): a record that says it is v1 may use none of it.
ACTIVITY_V2_KINDS: frozenset[str] = frozenset(
    set(get_args(get_type_hints(Activity)["type"])) - set(get_args(get_type_hints(ActivityV1)["type"]))
)
ACTIVITY_V2_FIELDS: frozenset[str] = frozenset(Activity.__struct_fields__) - frozenset(ActivityV1.__struct_fields__)

# The model of each (topic, schema version).
TOPIC_MODELS: dict[tuple[str, int], Any] = {
    ("threadline.slack.events", 1): SlackEventRecord,
    ("threadline.zendesk.events", 1): ZendeskEventRecord,
    ("threadline.commands", 1): Command,
    ("threadline.links", 1): Conversation,
    ("threadline.activity", 1): ActivityV1,
    ("threadline.activity", 2): Activity,
    ("threadline.sync.results", 1): SyncResult,
    ("threadline.commands", 2): CommandV2,
    ("threadline.commands", 3): CommandV3,
    ("threadline.commands", 4): CommandV4,
    ("threadline.links", 2): ConversationV2,
    ("threadline.links", 3): ConversationV3,
    ("threadline.links", 4): ConversationV4,
    ("threadline.sync.results", 2): SyncResultV2,
    ("threadline.sync.results", 3): SyncResultV3,
    ("threadline.sync.results", 4): SyncResultV4,
    ("threadline.follows", 1): FollowRow,
    ("threadline.homes", 1): HomeRow,
    ("threadline.slack.installations", 1): SlackInstallationRecord,
}

__all__ = [
    "ACTIVITY_V2_FIELDS",
    "ACTIVITY_V2_KINDS",
    "TOPIC_MODELS",
    "Activity",
    "ActivityAnswer",
    "ActivityV1",
    "Actor",
    "Cause",
    "ChannelQueue",
    "Command",
    "CommandEnvelope",
    "CommandV2",
    "CommandV3",
    "CommandV4",
    "Conversation",
    "ConversationV2",
    "ConversationV3",
    "ConversationV4",
    "CustomField",
    "EventWebhookBody",
    "EventsApiEnvelope",
    "FollowRow",
    "HomeItem",
    "HomeRow",
    "OnCallNotify",
    "PersonFollows",
    "PersonHome",
    "SlackAddReaction",
    "SlackEventRecord",
    "SlackFile",
    "SlackInstallationRecord",
    "SlackMessageMetadata",
    "SlackOpenThread",
    "SlackPerson",
    "SlackPostEphemeral",
    "SlackPostMessage",
    "SyncResult",
    "SyncResultV2",
    "SyncResultV3",
    "SyncResultV4",
    "TicketFollowers",
    "ZendeskAddComment",
    "ZendeskCreateFollowup",
    "ZendeskCreateTicket",
    "ZendeskEventRecord",
    "ZendeskSetPriority",
    "ZendeskSetStatus",
]
