"""Slack installations (OAuth v2 installs) in a compacted topic, encrypted at rest, and the bot
token of each team.

- `InstallationCipher`: Fernet keys from THREADLINE_SLACK_INSTALLATIONS_KEY (a comma-separated
  list, newest first: MultiFernet encrypts with the first and decrypts with any, so a key is
  rotated by putting the new one in front, re-saving, then dropping the old one).
- `encode`/`decode`: pure, an installation <-> its `threadline.slack.installations` v1 record;
  only the key (`<enterprise_id or ->/<team_id or ->`) and the ids are in the clear.
- `KafkaInstallationStore`: slack_sdk's `InstallationStore` over that topic. It reads the whole
  topic into memory on start (`wait_ready`) and goes on reading in a thread, so every service
  sees a new install without restarting; `save` writes the record and waits for Kafka's
  acknowledgement. Kept in memory because the table is small (one row per workspace).
- `TokenResolver`: the bot token for a team: its install's, else the org's (an org-wide
  Enterprise Grid install), else the single configured bot token (the setup without OAuth).
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
from typing import Any

import msgspec
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore

from threadline_common.kafka import consumer_config, producer_config
from threadline_common.models.generated.slack_installations_v1 import SlackInstallationRecord
from threadline_common.settings import KafkaSettings

log = logging.getLogger(__name__)


class InstallationKeyError(ValueError):
    """The encryption key setting is not a Fernet key (or a list of them)."""


class UnknownTeam(LookupError):
    """No install for this team and no single bot token to fall back on."""


class InstallationCipher:
    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise InstallationKeyError("THREADLINE_SLACK_INSTALLATIONS_KEY is empty")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        except ValueError as exc:
            raise InstallationKeyError(
                "THREADLINE_SLACK_INSTALLATIONS_KEY must be Fernet keys (32 url-safe base64-encoded bytes each, "
                "comma-separated, newest first; make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
            ) from exc

    def encrypt(self, data: bytes) -> str:
        return self._fernet.encrypt(data).decode()

    def decrypt(self, token: str) -> bytes:
        return self._fernet.decrypt(token.encode())


def record_key(enterprise_id: str | None, team_id: str | None) -> str:
    return f"{enterprise_id or '-'}/{team_id or '-'}"


def _installation_key(installation: Installation) -> str:
    team = None if installation.is_enterprise_install else installation.team_id
    return record_key(installation.enterprise_id, team)


def _plain(value: Any) -> Any:
    return value.timestamp() if isinstance(value, datetime.datetime) else value


def encode(installation: Installation, cipher: InstallationCipher) -> tuple[bytes, bytes]:
    """The record (key, value) of an installation."""
    fields = {k: _plain(v) for k, v in installation.to_dict_for_copying().items()}
    record = SlackInstallationRecord(
        format="fernet",
        enterprise_id=installation.enterprise_id,
        team_id=installation.team_id,
        is_enterprise_install=bool(installation.is_enterprise_install),
        installed_at=float(installation.installed_at),
        installation=cipher.encrypt(json.dumps(fields).encode()),
    )
    return _installation_key(installation).encode(), msgspec.json.encode(record)


def decode(value: bytes, cipher: InstallationCipher) -> Installation:
    """An installation from its record; raises InvalidToken when no key of the cipher opens it."""
    record = msgspec.json.decode(value, type=SlackInstallationRecord)
    fields = json.loads(cipher.decrypt(record.installation))
    return Installation(**fields)


class KafkaInstallationStore(InstallationStore):
    """slack_sdk's InstallationStore over the compacted installations topic (see the module doc)."""

    def __init__(self, kafka: KafkaSettings, topic: str, cipher: InstallationCipher, client_id: str) -> None:
        self.topic = topic
        self.cipher = cipher
        self._rows: dict[str, Installation] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._kafka = kafka
        self._client_id = client_id
        self._producer: Producer | None = None
        self._thread = threading.Thread(target=self._read, name="slack-installations", daemon=True)

    @property
    def logger(self) -> logging.Logger:
        return log

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> KafkaInstallationStore:
        self._thread.start()
        return self

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the topic was read to its end as it was at start."""
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the installations topic {self.topic} was not read within {timeout:.0f} s")

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _read(self) -> None:
        # No consumer group offsets: every service reads the whole table from the beginning.
        conf = consumer_config(
            self._kafka, group_id=f"{self._client_id}.installations", **{"enable.partition.eof": True}
        )
        consumer = Consumer(conf)
        try:
            partitions = self._partitions(consumer)
            consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions])
            at_end: set[int] = set()
            while not self._stop.is_set():
                message = consumer.poll(0.5)
                if message is None:
                    continue
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        at_end.add(message.partition() or 0)
                        if at_end >= set(partitions):
                            self._ready.set()
                    else:
                        log.warning("reading %s: %s", self.topic, error)
                    continue
                self._apply(message.key() or b"", message.value())
        finally:
            consumer.close()

    def _partitions(self, consumer: Consumer) -> list[int]:
        deadline = time.monotonic() + 30
        while True:
            metadata = consumer.list_topics(self.topic, timeout=10)
            topic = metadata.topics.get(self.topic)
            if topic is not None and topic.error is None and topic.partitions:
                return sorted(topic.partitions)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the installations topic {self.topic} does not exist")
            time.sleep(0.5)

    def _apply(self, key: bytes, value: bytes | None) -> None:
        name = key.decode()
        if value is None:
            with self._lock:
                self._rows.pop(name, None)
            return
        try:
            installation = decode(value, self.cipher)
        except InvalidToken:
            # A record no configured key opens (a dropped old key, or another deployment's):
            # said once per record, never its content; the team then has no token here.
            log.error(
                "installation %s in %s cannot be decrypted with THREADLINE_SLACK_INSTALLATIONS_KEY", name, self.topic
            )
            return
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError) as exc:
            log.error("installation %s in %s is not a v1 record: %s", name, self.topic, exc)
            return
        with self._lock:
            self._rows[name] = installation

    # --- writes ---------------------------------------------------------------------------------

    def _produce(self, key: bytes, value: bytes | None) -> None:
        if self._producer is None:
            self._producer = Producer(producer_config(self._kafka))
        failure: list[KafkaError] = []

        def delivered(error: KafkaError | None, _message: Any) -> None:
            if error is not None:
                failure.append(error)

        self._producer.produce(self.topic, key=key, value=value, on_delivery=delivered)
        remaining = self._producer.flush(30)
        if remaining or failure:
            raise RuntimeError(f"Kafka did not take the installation record: {failure[0] if failure else 'timeout'}")

    def save(self, installation: Installation) -> None:
        key, value = encode(installation, self.cipher)
        self._produce(key, value)
        with self._lock:  # read-your-writes before the reader thread meets the record
            self._rows[key.decode()] = installation

    def save_bot(self, bot: Bot) -> None:
        raise NotImplementedError("bots are saved with their installation (save)")

    # --- reads ----------------------------------------------------------------------------------

    def find_installation(
        self,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        with self._lock:
            if not is_enterprise_install and team_id:
                found = self._rows.get(record_key(enterprise_id, team_id))
                if found is not None:
                    return found
            # An org-wide install answers for every workspace of its organisation.
            return self._rows.get(record_key(enterprise_id, None)) if enterprise_id else None

    def find_bot(
        self,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        installation = self.find_installation(enterprise_id, team_id, is_enterprise_install=is_enterprise_install)
        return installation.to_bot() if installation is not None and installation.bot_token else None

    def find_by_team(self, team_id: str) -> Installation | None:
        """The install of a workspace when only its team id is known (a conversation key)."""
        with self._lock:
            for name, installation in self._rows.items():
                if name.endswith(f"/{team_id}"):
                    return installation
        return None

    def installations(self) -> list[Installation]:
        """Every install read, by key (a team's, or an organisation's org-wide one)."""
        with self._lock:
            return [self._rows[name] for name in sorted(self._rows)]

    def installed_ids(self) -> frozenset[str]:
        """Every team and enterprise id with an install."""
        with self._lock:
            return frozenset(part for name in self._rows for part in name.split("/") if part != "-")

    def delete_installation(self, enterprise_id: str | None, team_id: str | None, user_id: str | None = None) -> None:
        key = record_key(enterprise_id, team_id)
        self._produce(key.encode(), None)
        with self._lock:
            self._rows.pop(key, None)

    def delete_bot(self, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_installation(enterprise_id, team_id)


class TokenResolver:
    """The bot token to call Slack with for a team (see the module doc).

    A workspace covered only by an org-wide install is found by its organisation: the one a
    request named (`token_for(team, enterprise)`, and remembered with `learn`), else the one Slack
    says (auth.teams.list with each org-wide install's token: the workspaces an org-wide app was
    approved for), asked at most once a minute per workspace, by `organisation_of`."""

    ASK_AGAIN_SECONDS = 60.0

    def __init__(
        self, single_token: str | None, store: KafkaInstallationStore | None = None, slack_api_url: str | None = None
    ) -> None:
        self.single_token = single_token
        self.store = store
        self.slack_api_url = slack_api_url
        self._organisations: dict[str, str] = {}  # workspace -> organisation with an org-wide install
        self._asked: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def several_workspaces(self) -> bool:
        return self.store is not None

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the installations were read (at once without them)."""
        if self.store is not None:
            self.store.wait_ready(timeout)

    def learn(self, team_id: str | None, enterprise_id: str | None) -> None:
        """A request of workspace `team_id` named its organisation."""
        if team_id and enterprise_id:
            with self._lock:
                self._organisations[team_id] = enterprise_id

    def _org_installs(self) -> list[Installation]:
        installs = self.store.installations() if self.store is not None else []
        return [i for i in installs if i.is_enterprise_install and i.enterprise_id and i.bot_token]

    def needs_asking(self, team_id: str | None, enterprise_id: str | None = None) -> bool:
        """Whether `token_for` may have to ask Slack (a call a caller on an event loop runs in a thread)."""
        if self.store is None or not team_id or enterprise_id:
            return False
        with self._lock:
            if team_id in self._organisations:
                return False
        return self.store.find_by_team(team_id) is None and bool(self._org_installs())

    def organisation_of(self, team_id: str) -> str | None:
        with self._lock:
            known = self._organisations.get(team_id)
            if known is not None:
                return known
            now = time.monotonic()
            if now - self._asked.get(team_id, -self.ASK_AGAIN_SECONDS) < self.ASK_AGAIN_SECONDS:
                return None
            self._asked[team_id] = now
        from slack_sdk import WebClient  # only with an org-wide install
        from slack_sdk.errors import SlackApiError

        for org in self._org_installs():
            client = WebClient(token=org.bot_token, base_url=self.slack_api_url or WebClient.BASE_URL)
            try:
                teams = [t for page in client.auth_teams_list(limit=1000) for t in page.get("teams") or []]
            except (SlackApiError, OSError) as exc:
                log.warning("auth.teams.list of the org-wide install of %s failed: %s", org.enterprise_id, exc)
                continue
            with self._lock:
                for team in teams:
                    self._organisations[str(team.get("id"))] = str(org.enterprise_id)
        with self._lock:
            return self._organisations.get(team_id)

    def token_for(self, team_id: str | None, enterprise_id: str | None = None) -> str:
        if self.store is not None and team_id:
            installation = self.store.find_installation(enterprise_id, team_id)
            if installation is None and enterprise_id is None:
                installation = self.store.find_by_team(team_id)
            if installation is None and enterprise_id is None and self._org_installs():
                organisation = self.organisation_of(team_id)
                if organisation is not None:
                    installation = self.store.find_installation(organisation, team_id)
            if installation is not None and installation.bot_token:
                return installation.bot_token
        if self.single_token:
            return self.single_token
        raise UnknownTeam(f"no Slack install for team {team_id} and no single bot token configured")

    def bot_tokens(self) -> list[str]:
        """Every bot token there is: the single one first, then each install's."""
        installs = self.store.installations() if self.store is not None else []
        found = [self.single_token, *(i.bot_token for i in installs)]
        return list(dict.fromkeys(t for t in found if t))


def token_resolver(
    single_token: str | None,
    installations_key: str | None,
    kafka: KafkaSettings,
    topic: str,
    client_id: str,
    slack_api_url: str | None = None,
) -> TokenResolver:
    """The bot token by team as a service configures it: the single token alone, or with
    several workspaces (an installations key) also the installations topic read into memory
    (its reader thread starts here; `wait_ready` before the first call that needs it)."""
    if installations_key is None:
        return TokenResolver(single_token)
    store = KafkaInstallationStore(kafka, topic, InstallationCipher(installations_key), client_id=client_id)
    return TokenResolver(single_token, store.start(), slack_api_url)


# The Enterprise Grid organisation of the Slack record that caused a command, on the command's
# record (threadline.commands headers): with it zendesk-sync finds an org-wide install for a
# workspace that has none of its own (slack_sdk's find_installation(enterprise_id, team_id)).
ENTERPRISE_HEADER = "threadline-slack-enterprise"


def enterprise_of(kind: str, body: Any) -> str | None:
    """The organisation whose install a Slack request is for, where Slack's payloads say it:
    an Events API callback's `authorizations[0].enterprise_id` (the installation the event is
    delivered for: in a Slack Connect channel the envelope's `enterprise_id` is the actor's
    organisation, not the installer's), else its `context_enterprise_id` / `enterprise_id`;
    an interaction's `enterprise.id` (or `team.enterprise_id`); a slash command's `enterprise_id`.
    None outside Enterprise Grid."""
    if not isinstance(body, dict):
        return None
    found: Any = None
    if kind == "event_callback":
        authorizations = body.get("authorizations")
        if isinstance(authorizations, list) and authorizations and isinstance(authorizations[0], dict):
            found = authorizations[0].get("enterprise_id")
        found = found or body.get("context_enterprise_id") or body.get("enterprise_id")
    elif kind == "interaction":
        enterprise, team = body.get("enterprise"), body.get("team")
        found = (enterprise or {}).get("id") if isinstance(enterprise, dict) else None
        found = found or ((team or {}).get("enterprise_id") if isinstance(team, dict) else None)
    elif kind == "slash_command":
        found = body.get("enterprise_id")
    return found if isinstance(found, str) and found.startswith("E") else None


def enterprise_header(enterprise_id: str | None) -> list[tuple[str, bytes]]:
    return [(ENTERPRISE_HEADER, enterprise_id.encode())] if enterprise_id else []


def _id_in(headers: Any, name: str, prefixes: tuple[str, ...]) -> str | None:
    """The Slack id a command's header `name` holds, if it looks like one (None without it)."""
    items = headers.items() if isinstance(headers, dict) else (headers or ())
    for key, value in items:
        if key == name:
            raw = value.decode(errors="replace") if isinstance(value, bytes) else str(value or "")
            return raw if raw.startswith(prefixes) else None
    return None


def enterprise_in(headers: Any) -> str | None:
    """The organisation a command's headers name (None without the header)."""
    return _id_in(headers, ENTERPRISE_HEADER, ("E",))


# The workspace a command's Slack calls are for, on the command's record, where its key names no
# team (a `ticket:<id>` row's DM to a follower, its answers to the person who asked): the router
# knows it there (the follower's row, the Slack request), so it says it rather than have
# zendesk-sync guess.
TEAM_HEADER = "threadline-slack-team"


def team_header(team_id: str | None) -> list[tuple[str, bytes]]:
    return [(TEAM_HEADER, team_id.encode())] if team_id else []


def team_in(headers: Any) -> str | None:
    """The workspace a command's headers name (None without the header)."""
    return _id_in(headers, TEAM_HEADER, ("T", "E"))


# Router rows of one person of a workspace (`person:<team>:<user>`: their follows and App Home)
# or one channel's queue (`queue:<team>:<channel>`): the team is their key's second part.
_TEAM_ROWS = ("person:", "queue:")


def team_of_conversation(conversation_id: str) -> str | None:
    """The team of a conversation key `<team>:<channel>:<thread ts>`, or of a person's row
    `person:<team>:<user>` (their App Home publishes), None when the key names no team."""
    if conversation_id.startswith(_TEAM_ROWS):
        conversation_id = conversation_id.partition(":")[2]
    team, sep, _ = conversation_id.partition(":")
    return team if sep and team.startswith(("T", "E")) else None
