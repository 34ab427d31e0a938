"""The router's settings: one object, from THREADLINE_ROUTER_* (and the two documented switches)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from threadline_common.settings import ServiceSettings


class RouterSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="THREADLINE_ROUTER_", extra="ignore")

    app_id: str = "threadline-router"
    channels_file: Path = Field(description="YAML channel routing (see charts/ and README)")
    slack_bot_user_id: str | None = None
    slack_bot_id: str | None = None
    allowed_bot_ids: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("ALLOWED_BOT_IDS", "THREADLINE_ROUTER_ALLOWED_BOT_IDS"),
    )
    disable_message_processing: bool = Field(
        default=False,
        validation_alias=AliasChoices("DISABLE_MESSAGE_PROCESSING", "THREADLINE_ROUTER_DISABLE_MESSAGE_PROCESSING"),
    )
    zendesk_api_user_id: int | None = None
    # RocksDB in production (recovers from local disk, then the changelog); memory in tests.
    store: Literal["rocksdb://", "memory://"] = "rocksdb://"
    data_dir: Path = Path("/var/lib/threadline/router")
    # Before faust starts, bring the RocksDB tables to their changelogs' end with a bulk reader
    # (restore.py): a new pod serves 1,000,000 conversations within a minute, not several.
    restore_on_start: bool = True
    # RocksDB memory per partition of each table (README "Scale"): memtables and block cache.
    rocksdb_write_buffer_mib: int = Field(default=8, ge=1)
    rocksdb_links_cache_mib: int = Field(default=16, ge=1)
    rocksdb_cache_mib: int = Field(default=4, ge=1)
    # faust keeps this many other workers reading each table partition (table_standby_replicas):
    # with 2+ replicas a partition moved by a rebalance is current at once.
    standby_replicas: int = Field(default=1, ge=0)
    partitions: int = 6
    replication_factor: int = 1
    web_host: str = "127.0.0.1"  # loopback unless told otherwise: the chart sets 0.0.0.0
    web_port: int = 6066
    liveness_max_age_seconds: float = 60.0
    # How long a crashed worker keeps its partitions before the group moves them on.
    session_timeout_seconds: float = 10.0
    # How often the due-time index is read for conversations due a reminder.
    reminder_interval_seconds: float = Field(default=60.0, gt=0)
    # How often each router worker asks each rotating channel whether a hand-over is due its announcement.
    handover_interval_seconds: float = Field(default=30.0, gt=0)
    # Keep and publish each person's App Home tab (rules.home); the Slack app's Home tab must be on.
    app_home: bool = True
    # How often the homes table is looked through for Homes whose publish was held back (debounce).
    home_interval_seconds: float = Field(default=1.0, gt=0)
