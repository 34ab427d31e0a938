"""`threadline-ops doctor`: is this deployment set up as Threadline needs? One line per check
passed (`ok`), per thing worth knowing (`note`) and per problem (`PROBLEM`, with how to fix it);
exit 1 if there is any problem.

- Kafka answers, and every topic of schemas/topics is there with its partitions and its
  cleanup.policy (compacted tables must be compacted, or they lose rows).
- Slack: the bot token is valid (auth.test), and the scopes granted to it (Slack says them in
  the `x-oauth-scopes` header of every Web API answer) include every one the manifest asks for;
  the bot is a member of every channel of the channel file. With several workspaces
  (THREADLINE_OPS_SLACK_INSTALLATIONS_KEY) every install's token is checked so, and each channel
  with the token of its own workspace (the one Slack shows the channel to).
- Zendesk: the credentials are valid (users/me); with --url, a webhook sends to ingest, active
  and subscribed to the event types the router handles, and its latest delivery did not fail.
- The channel file parses, and the Zendesk groups, brands and ticket forms it names exist, and every ticket
  field it names (zendesk.custom_fields, zendesk.form) exists, is active, and has the options the
  channel gives it; the credentials are an agent's (or an admin's).
- Elasticsearch (the reporter's settings, THREADLINE_REPORTER_ELASTICSEARCH_*): it answers, the
  reporter's index templates are installed and equal to what this release's reporter installs,
  and the aliases its readers use point at an index.

The judgements are pure functions of what was read (`topic_findings`, `scope_findings`, ...);
`run_doctor` reads, and says what they found. One check failing does not stop the others.
"""

from __future__ import annotations

import argparse
import itertools
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from zenpy.lib.exception import APIException, ZenpyException

from threadline_common.channels import ChannelsConfig, load_channels
from threadline_common.contracts import ContractError, Topics, TopicSpec, load_topics
from threadline_common.kafka import admin_config
from threadline_common.settings import KafkaSettings, describe_validation_error
from threadline_common.topics import plan
from threadline_router.ops.env import Env
from threadline_router.ops.kafka_io import OpsError
from threadline_router.ops.saas import Workspace, Zendesk, slack_client, workspaces
from threadline_router.ops.slack_manifest import BOT_SCOPES
from threadline_router.ops.zendesk_webhook import (
    NEEDED_EVENTS,
    endpoint_for,
    event_webhooks_to,
    short,
    shortfalls,
    whoami,
    zendesk_error,
)

CREATE_TOPICS = "python -m threadline_common.topics (what the chart's topics Job runs)"
START_REPORTER = "start the reporter once (it installs its templates and indices at start)"
STAFF_ROLES = ("agent", "admin")


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str
    note: bool = False  # something worth knowing that is not a problem

    @property
    def label(self) -> str:
        return "PROBLEM" if not self.ok else "note   " if self.note else "ok     "


def ok(text: str) -> Finding:
    return Finding(True, text)


def problem(text: str) -> Finding:
    return Finding(False, text)


def note(text: str) -> Finding:
    return Finding(True, text, note=True)


# --- the judgements (pure) ------------------------------------------------------------------------


def topic_findings(
    specs: Iterable[TopicSpec], partitions: Mapping[str, int], policies: Mapping[str, str | None], prefix: str
) -> list[Finding]:
    """Every contract topic against what the cluster has (name -> partitions, cleanup.policy)."""
    specs = list(specs)
    wanted = plan(specs, partitions, prefix)
    found = [problem(f"topic {t.name} is missing: create it with {CREATE_TOPICS}") for t in wanted.create]
    for name, (have, want) in sorted(wanted.partition_mismatch.items()):
        found.append(
            problem(
                f"topic {name} has {have} partitions, its contract says {want}: the router's co-partitioned "
                "topics (router.inbound, links) must agree; recreate it empty or repartition on purpose"
            )
        )
    for spec in specs:
        name, policy = prefix + spec.name, spec.config.get("cleanup.policy")
        have_policy = policies.get(name)
        if policy and name in partitions and have_policy is not None and have_policy != policy:
            found.append(
                problem(
                    f"topic {name} has cleanup.policy={have_policy}, its contract says {policy}: "
                    f"kafka-configs --alter --entity-type topics --entity-name {name} "
                    f"--add-config cleanup.policy={policy}"
                )
            )
    if not found:
        found.append(ok(f"Kafka: all {len(specs)} contract topics exist with their partitions and cleanup policies"))
    return found


def scope_findings(granted_header: str | None, workspace: Workspace | None = None) -> list[Finding]:
    """A bot token's granted scopes (the x-oauth-scopes header) against the manifest's; `workspace`
    names whose token it is (the single one by default)."""
    whose = workspace.label if workspace is not None else "bot token"
    if granted_header is None:
        return [problem(f"Slack did not say the {whose}'s scopes (no x-oauth-scopes header): cannot check them")]
    granted = {s.strip() for s in granted_header.split(",") if s.strip()}
    missing = [s for s in BOT_SCOPES if s not in granted]
    found = []
    if missing:
        where = " there" if workspace is not None and not workspace.single else ""
        found.append(
            problem(
                f"the Slack {whose} lacks the scopes {', '.join(missing)}: add them under OAuth & Permissions "
                f"(or update the app from `threadline-ops slack-manifest`) and reinstall the app{where}"
            )
        )
    else:
        found.append(ok(f"Slack: the {whose} has all {len(BOT_SCOPES)} scopes Threadline needs"))
    extra = sorted(granted - set(BOT_SCOPES))
    if extra:  # not a failure, but a leaked token should not carry them
        found.append(note(f"the {whose} also has scopes Threadline does not use: {', '.join(extra)}"))
    return found


def webhook_findings(endpoint: str, hooks: list[Any], url: str) -> list[Finding]:
    """The event webhooks found sending to ingest's endpoint."""
    fix = f"run `threadline-ops setup-zendesk --url {url}`"
    if not hooks:
        return [problem(f"no Zendesk webhook sends ticket events to {endpoint}: {fix}")]
    for hook in hooks:
        if not shortfalls(hook):
            events = ", ".join(short(e) for e in NEEDED_EVENTS)
            return [ok(f"Zendesk: webhook {hook.id} sends {events} to {endpoint}, active")]
    hook = hooks[0]
    return [problem(f"the Zendesk webhook {hook.id} to {endpoint} will not do: {'; '.join(shortfalls(hook))}: {fix}")]


FAILED = ("failed", "timeout", "circuit broken", "throttled", "client error", "server error")
RECENT = 100  # invocations looked at, newest first


def delivery_findings(hook_id: str, invocations: list[Any]) -> list[Finding]:
    """The webhook's recent invocations (newest first, Zendesk keeps 7 days): a failing latest one
    is a problem (ingest down, or a secret that does not match: ingest answers 401)."""
    if not invocations:
        return [note(f"Zendesk has no recent deliveries of webhook {hook_id} (nothing happened in 7 days?)")]
    failed = [i for i in invocations if i.status in FAILED]
    latest = invocations[0]
    counts = f"{len(failed)} of the last {len(invocations)} failed"
    if latest.status in FAILED:
        return [
            problem(
                f"Zendesk's latest delivery to ingest failed ({latest.status} {latest.status_code or ''} at "
                f"{latest.latest_completed_at}; {counts}): check that ingest is up and that its "
                "zendesk-webhook-secret is the webhook's (a wrong one is answered 401)"
            )
        ]
    if failed:
        return [ok(f"Zendesk: the latest delivery to ingest succeeded ({counts})")]
    return [ok(f"Zendesk: the last {len(invocations)} deliveries to ingest succeeded")]


def routing_findings(
    channels: ChannelsConfig, groups: Mapping[int, str], brands: Mapping[int, str], source: str
) -> list[Finding]:
    """Every group and brand the channel file names, against those Zendesk has (id -> name)."""
    found = []

    def known(have: Mapping[int, str]) -> str:
        return ", ".join(f"{i} {n}" for i, n in sorted(have.items())) or "none"

    for channel_id, rules in channels.channels.items():
        label = f"channel {channel_id}" + (f" (#{rules.name})" if rules.name else "")
        group, brand = rules.zendesk.group_id, rules.zendesk.brand_id
        if group is not None and group not in groups:
            found.append(problem(f"{label} in {source}: Zendesk has no group {group} (groups: {known(groups)})"))
        if brand is not None and brand not in brands:
            found.append(problem(f"{label} in {source}: Zendesk has no brand {brand} (brands: {known(brands)})"))
    for group in channels.email_groups:
        if group not in groups:
            found.append(
                problem(f"email_groups.{group} in {source}: Zendesk has no group {group} (groups: {known(groups)})")
            )
    if not found:
        found.append(ok(f"Zendesk: every group and brand {source} names exists"))
    return found


@dataclass(frozen=True)
class TicketField:
    """What the doctor needs of a Zendesk ticket field: its title, type, whether it is active, and
    the values of its options (a drop-down's `tagger`, or `multiselect`)."""

    title: str
    type: str
    active: bool = True
    values: tuple[str, ...] = ()


CHOICE_TYPES = ("tagger", "multiselect")
NUMBER_TYPES = ("integer", "decimal")


def field_findings(channels: ChannelsConfig, fields: Mapping[int, TicketField], source: str) -> list[Finding]:
    """Every ticket field the channel file names (zendesk.custom_fields, zendesk.form), against those
    Zendesk has: it exists, is active, and offers the values the channel sets or asks for."""
    found: list[Finding] = []
    fix = "Admin Center > Objects and rules > Tickets > Fields"

    def check(label: str, field_id: int, values: Iterable[str], kind: str | None) -> None:
        have = fields.get(field_id)
        if have is None:
            found.append(
                problem(
                    f"{label} in {source}: Zendesk has no ticket field {field_id}: "
                    f"correct the id, or create it in {fix}"
                )
            )
            return
        name = f"ticket field {field_id} {have.title!r}"
        if not have.active:
            found.append(problem(f"{label} in {source}: {name} is inactive: activate it in {fix}"))
        if kind == "select" and have.type not in CHOICE_TYPES:
            found.append(
                problem(
                    f"{label} in {source}: {name} is a {have.type} field, not a drop-down: "
                    f"make the form field kind {_kind_for(have.type)}"
                )
            )
            return
        if kind == "number" and have.type not in NUMBER_TYPES:
            found.append(
                problem(
                    f"{label} in {source}: {name} is a {have.type} field, not a number: "
                    f"make the form field kind {_kind_for(have.type)}"
                )
            )
            return
        if have.type in CHOICE_TYPES:
            unknown = [v for v in values if v not in have.values]
            if unknown:
                found.append(
                    problem(
                        f"{label} in {source}: {name} has no option {', '.join(repr(v) for v in unknown)} "
                        f"(its values: {', '.join(have.values) or 'none'}): use a value, or add the option in {fix}"
                    )
                )

    for channel_id, rules in channels.channels.items():
        label = f"channel {channel_id}" + (f" (#{rules.name})" if rules.name else "")
        for field_id, value in sorted(rules.zendesk.custom_fields.items()):
            check(f"{label} zendesk.custom_fields", field_id, [value], None)
        for form_field in rules.zendesk.form:
            check(f"{label} zendesk.form {form_field.label!r}", form_field.id, form_field.options, form_field.kind)
    if not found:
        found.append(ok(f"Zendesk: every ticket field {source} names exists, is active and has its options"))
    return found


def form_findings(channels: ChannelsConfig, forms: Mapping[int, tuple[str, bool]], source: str) -> list[Finding]:
    """Every ticket form the channel file names (zendesk.ticket_form_id), against the account's
    (id -> name, active): tickets opened with a missing or inactive form are refused or misfiled."""
    found = []
    known = ", ".join(f"{i} {n}" for i, (n, _) in sorted(forms.items())) or "none"
    for channel_id, rules in channels.channels.items():
        form_id = rules.zendesk.ticket_form_id
        if form_id is None:
            continue
        label = f"channel {channel_id}" + (f" (#{rules.name})" if rules.name else "")
        if form_id not in forms:
            found.append(problem(f"{label} in {source}: Zendesk has no ticket form {form_id} (forms: {known})"))
        elif not forms[form_id][1]:
            found.append(
                problem(
                    f"{label} in {source}: the ticket form {form_id} {forms[form_id][0]!r} is inactive: activate it "
                    "in Admin Center > Objects and rules > Tickets > Forms"
                )
            )
    return found


def _kind_for(field_type: str) -> str:
    return "select" if field_type in CHOICE_TYPES else "number" if field_type in NUMBER_TYPES else "text"


def agent_findings(email: str, role: str) -> list[Finding]:
    """Threadline opens, answers and solves tickets as this user: an end-user can do none of it."""
    if role not in STAFF_ROLES:
        return [
            problem(
                f"the Zendesk credentials are {email}'s, an {role}: Threadline needs an agent (an admin for "
                "setup-zendesk's webhook); use an agent's email and API token, or make this user an agent"
            )
        ]
    return []


def _flat_settings(settings: Mapping[str, Any]) -> dict[str, str]:
    """Index settings as Elasticsearch answers them: flat keys without `index.`, values as strings."""
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}{key}.", inner)
        else:
            flat[prefix[:-1].removeprefix("index.")] = str(value).lower() if isinstance(value, bool) else str(value)

    walk("", settings)
    return flat


def template_differences(wanted: Mapping[str, Any], have: Mapping[str, Any]) -> list[str]:
    """What differs between the template the reporter would install and the one installed (as
    GET _index_template answers it: settings flattened, numbers as strings)."""
    differences = []
    if list(have.get("index_patterns") or ()) != list(wanted.get("index_patterns") or ()):
        differences.append(
            f"index_patterns {list(have.get('index_patterns') or ())}, not {wanted.get('index_patterns')}"
        )
    if have.get("priority") != wanted.get("priority"):
        differences.append(f"priority {have.get('priority')}, not {wanted.get('priority')}")
    want_t, have_t = wanted.get("template") or {}, have.get("template") or {}
    want_s, have_s = _flat_settings(want_t.get("settings") or {}), _flat_settings(have_t.get("settings") or {})
    changed = sorted(k for k in want_s.keys() | have_s.keys() if want_s.get(k) != have_s.get(k))
    if changed:
        differences.append(f"settings {', '.join(changed)}")
    want_m, have_m = want_t.get("mappings") or {}, have_t.get("mappings") or {}
    want_p, have_p = want_m.get("properties") or {}, have_m.get("properties") or {}
    missing = sorted(want_p.keys() - have_p.keys())
    extra = sorted(have_p.keys() - want_p.keys())
    altered = sorted(k for k in want_p.keys() & have_p.keys() if want_p[k] != have_p[k])
    for what, names in (
        ("lacks fields", missing),
        ("has fields the reporter does not", extra),
        ("maps differently", altered),
    ):
        if names:
            differences.append(f"mapping {what} {', '.join(names)}")
    other = sorted(k for k in want_m.keys() | have_m.keys() if k != "properties" and want_m.get(k) != have_m.get(k))
    if other:
        differences.append(f"mapping {', '.join(other)}")
    if set((have_t.get("aliases") or {}).keys()) != set((want_t.get("aliases") or {}).keys()):
        differences.append(f"aliases {sorted(have_t.get('aliases') or {})}, not {sorted(want_t.get('aliases') or {})}")
    if have.get("_meta") != wanted.get("_meta"):
        differences.append("_meta")
    return differences


def template_findings(wanted: Mapping[str, Mapping[str, Any]], have: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    """The reporter's index templates (name -> body, as it would PUT them) against those installed."""
    found = []
    for name, body in sorted(wanted.items()):
        if name not in have:
            found.append(problem(f"Elasticsearch template {name} is missing: {START_REPORTER}"))
            continue
        differences = template_differences(body, have[name])
        if differences:
            found.append(
                problem(
                    f"Elasticsearch template {name} is not the reporter's ({'; '.join(differences)}): {START_REPORTER} "
                    "of this release, which puts it back (a field whose type changed needs a new -vN index)"
                )
            )
    if not found:
        found.append(
            ok(f"Elasticsearch: the reporter's {len(wanted)} index templates are installed as it installs them")
        )
    return found


def alias_findings(required: Iterable[str], optional: Iterable[str], aliases: Mapping[str, list[str]]) -> list[Finding]:
    """The aliases readers use (alias -> the indices behind it): the single-index kinds must point
    at an index; monthly event indices appear with the first event."""
    found = []
    for alias in required:
        if not aliases.get(alias):
            found.append(problem(f"Elasticsearch alias {alias} points at no index: {START_REPORTER}"))
        else:
            found.append(ok(f"Elasticsearch: {alias} -> {', '.join(sorted(aliases[alias]))}"))
    for alias in optional:
        if not aliases.get(alias):
            found.append(
                note(f"Elasticsearch alias {alias} points at no index yet (its first index comes with the first event)")
            )
    return found


def membership_findings(
    channel_id: str,
    name: str,
    info: dict[str, Any] | None,
    error: str | None,
    workspace: Workspace | None = None,
    *,
    several: bool = False,
) -> list[Finding]:
    """Whether the bot is in a channel of the file. `workspace`: whose token saw it (said when
    there are several); `several`: every workspace's token was asked and none saw it."""
    label = f"#{name} ({channel_id})" if name else channel_id
    if error == "channel_not_found" and several:
        return [
            problem(
                f"no workspace's bot token sees {label}: check the channel id, install the app in its "
                "workspace (/slack/install), and invite the app if the channel is private"
            )
        ]
    if error is not None:
        return [problem(f"Slack answered {error} for {label}: check the channel id, and invite the app if private")]
    where = f" with the {workspace.label}" if workspace is not None else ""
    if not (info or {}).get("is_member"):
        return [problem(f"the Threadline bot is not in {label}{where}: /invite @Threadline there")]
    return [ok(f"Slack: the bot is in {label}{where}")]


def token_refused_findings(workspace: Workspace, error: str) -> list[Finding]:
    if workspace.single:
        return [problem(f"Slack refused the bot token ({error}): check THREADLINE_OPS_SLACK_BOT_TOKEN (xoxb-...)")]
    return [
        problem(
            f"Slack refused the {workspace.label} ({error}): the app was uninstalled there or its token revoked; "
            "install it again from /slack/install"
        )
    ]


# --- reading the deployment -----------------------------------------------------------------------


def _kafka(env: Env) -> list[Finding]:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, ConfigResource

    try:
        specs = load_topics()
    except ContractError as exc:
        return [problem(f"cannot read the topic contracts: {exc}")]
    try:
        # Not env.kafka: a missing setting is a problem to list, not an exit. (pydantic-settings reads
        # bootstrap_servers from KAFKA_BOOTSTRAP_SERVERS, which mypy cannot know.)
        settings = KafkaSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = describe_validation_error(KafkaSettings, exc).splitlines()
        return [problem(f"{lines[0]} {'; '.join(line.strip(' -') for line in lines[1:])}")]
    timeout = env.ops.kafka_timeout_seconds
    admin = AdminClient(admin_config(settings, log_level=2))  # refused connections are said here, once
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        return [problem(f"Kafka at {settings.bootstrap_servers} did not answer within {timeout:.0f}s: {exc}")]
    partitions = {name: len(t.partitions) for name, t in metadata.topics.items() if t.error is None}
    names = [settings.topic_prefix + s.name for s in specs if settings.topic_prefix + s.name in partitions]
    policies: dict[str, str | None] = {}
    if names:
        futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, n) for n in names])
        for resource, future in futures.items():
            try:
                entry = future.result(timeout=timeout).get("cleanup.policy")
                policies[resource.name] = entry.value if entry is not None else None
            except (KafkaException, TimeoutError) as exc:
                return [problem(f"Kafka at {settings.bootstrap_servers} did not describe {resource.name}: {exc}")]
    return topic_findings(specs, partitions, policies, settings.topic_prefix)


def _slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") if exc.response is not None else exc)


def _slack(env: Env, channels: ChannelsConfig | None) -> list[Finding]:
    """Each workspace's bot token (the single one, and with several workspaces each install's):
    valid, with the scopes; then each channel of the file with the token of the workspace it is
    in, the one whose token Slack shows it to (to any other it answers channel_not_found)."""
    kafka: KafkaSettings | None = None
    if env.ops.slack_installations_key is not None:
        try:
            kafka = KafkaSettings()  # type: ignore[call-arg]
        except ValidationError as exc:
            return [problem(f"the Slack installations cannot be read: {describe_validation_error(KafkaSettings, exc)}")]
    try:
        tokens = workspaces(env.ops, kafka, Topics(kafka.topic_prefix).slack_installations if kafka else None)
    except OpsError as exc:
        return [problem(str(exc))]
    found: list[Finding] = []
    usable: list[tuple[Workspace, WebClient]] = []
    for workspace in tokens:
        client = slack_client(env.ops, workspace.token)
        try:
            answer = client.auth_test()
        except SlackApiError as exc:
            found += token_refused_findings(workspace, _slack_error(exc))
            continue
        except OSError as exc:
            return [*found, problem(f"cannot reach Slack: {exc}")]
        who = f"@{answer.get('user')} in {answer.get('team')} ({answer.get('team_id') or answer.get('enterprise_id')})"
        found.append(ok(f"Slack: the {workspace.label} is valid ({who})"))
        headers = {k.lower(): v for k, v in answer.headers.items()}
        granted = headers.get("x-oauth-scopes")
        found += scope_findings(", ".join(granted) if isinstance(granted, list) else granted, workspace)
        usable.append((workspace, client))
    if not usable:
        return found
    several = len(tokens) > 1
    for channel_id, rules in (channels.channels if channels else {}).items():
        error: str | None = "channel_not_found"
        for workspace, client in usable:
            try:
                info = client.conversations_info(channel=channel_id)["channel"]
            except SlackApiError as exc:
                error = _slack_error(exc)
                if error == "channel_not_found" and several:
                    continue  # not this workspace's channel: ask the next one's token
                found += membership_findings(channel_id, rules.name, None, error)
                break
            found += membership_findings(channel_id, rules.name, info, None, workspace if several else None)
            break
        else:
            found += membership_findings(channel_id, rules.name, None, error, several=several)
    return found


def _zendesk(env: Env, url: str | None, channels: ChannelsConfig | None) -> list[Finding]:
    try:
        zendesk = Zendesk(env.ops)
        subdomain = str(env.ops.zendesk_subdomain)
        me = whoami(zendesk.zen, subdomain)
    except OpsError as exc:
        return [problem(str(exc))]
    found = [ok(f"Zendesk: the credentials are valid ({me.email}, {me.role}, {subdomain})")]
    found += agent_findings(str(me.email), str(me.role))
    if url is None:
        found.append(note("Zendesk's webhook not checked (give --url https://<ingest> to check it)"))
    else:
        endpoint = endpoint_for(url)
        try:
            hooks, _triggers = event_webhooks_to(zendesk.zen, endpoint, subdomain)
            found += webhook_findings(endpoint, hooks, url)
            working = next((h for h in hooks if not shortfalls(h)), None)
            if working is not None:
                invocations = list(itertools.islice(zendesk.zen.webhooks.invocations(working), RECENT))
                found += delivery_findings(working.id, invocations)
        except OpsError as exc:
            found.append(problem(str(exc)))
        except (APIException, ZenpyException, OSError) as exc:
            found.append(problem(str(zendesk_error(exc, "list its webhook's invocations", subdomain))))
    if channels is not None:
        found += zendesk_config_findings(zendesk.zen, channels, subdomain, str(env.ops.channels_file))
    return found


def zendesk_config_findings(zen: Any, channels: ChannelsConfig, subdomain: str, source: str) -> list[Finding]:
    """The groups, brands and ticket fields the channel file names, against the account's (doctor
    and setup-zendesk both say these)."""
    try:
        groups = _names(zen.groups)
        brands = _names(zen.brands)
    except (APIException, ZenpyException, OSError) as exc:
        return [problem(str(zendesk_error(exc, "list its groups and brands", subdomain)))]
    found = routing_findings(channels, groups, brands, source)
    try:
        fields = {int(f.id): _ticket_field(f) for f in zen.ticket_fields()}
    except (APIException, ZenpyException, OSError) as exc:
        return [*found, problem(str(zendesk_error(exc, "list its ticket fields", subdomain)))]
    found += field_findings(channels, fields, source)
    if any(rules.zendesk.ticket_form_id is not None for rules in channels.channels.values()):
        try:
            forms = {int(f.id): (str(f.name), bool(f.active)) for f in zen.ticket_forms()}
        except (APIException, ZenpyException, OSError) as exc:
            return [*found, problem(str(zendesk_error(exc, "list its ticket forms", subdomain)))]
        found += form_findings(channels, forms, source)
    return found


def _ticket_field(item: Any) -> TicketField:
    # zenpy's TicketField has no attribute for custom_field_options: read the JSON it keeps.
    options = item.to_dict().get("custom_field_options") or ()
    return TicketField(
        title=str(item.title),
        type=str(item.type),
        active=bool(item.active),
        values=tuple(str(o.get("value")) for o in options if isinstance(o, dict)),
    )


def _elasticsearch() -> list[Finding]:
    from elasticsearch import ApiError, AuthenticationException, AuthorizationException, TransportError

    from threadline_reporter.indices import Names
    from threadline_reporter.service import elasticsearch_client
    from threadline_reporter.settings import ElasticsearchSettings

    if not os.environ.get("THREADLINE_REPORTER_ELASTICSEARCH_URL"):
        return [
            note(
                "Elasticsearch not checked (set THREADLINE_REPORTER_ELASTICSEARCH_URL "
                "and the reporter's other settings)"
            )
        ]
    try:
        # The reporter's own settings and client: the doctor reads the cluster the reporter writes.
        settings = ElasticsearchSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = describe_validation_error(ElasticsearchSettings, exc).splitlines()
        return [problem(f"{lines[0]} {'; '.join(line.strip(' -') for line in lines[1:])}")]
    url, names = settings.elasticsearch_url, Names(settings.index_prefix)
    try:
        es = elasticsearch_client(settings).options(request_timeout=min(settings.elasticsearch_timeout_seconds, 15))
    except ValueError as exc:  # the client's own check of the URL
        return [problem(f"THREADLINE_REPORTER_ELASTICSEARCH_URL={url!r} will not do ({exc}): give http(s)://host:port")]
    try:
        try:
            info = es.info()
        except AuthenticationException:
            return [
                problem(
                    f"Elasticsearch at {url} refused the credentials (401): "
                    "check THREADLINE_REPORTER_ELASTICSEARCH_API_KEY"
                )
            ]
        except AuthorizationException:
            # The reporter needs no cluster privilege (monitor) to index: what matters is read below.
            info = None
        except TransportError as exc:
            return [
                problem(
                    f"cannot reach Elasticsearch at {url}: {exc.message}: "
                    "check THREADLINE_REPORTER_ELASTICSEARCH_URL and that the cluster is up"
                )
            ]
        about = (
            f"{info.get('cluster_name')}, {info.get('version', {}).get('number')}" if info else "credentials accepted"
        )
        found = [ok(f"Elasticsearch: {url} answers ({about})")]
        try:
            # A pattern that matches nothing is answered 404 by some versions: then none is installed.
            answer = es.options(ignore_status=404).indices.get_index_template(name=f"{names.prefix}*")
            have = {t["name"]: t["index_template"] for t in answer.body.get("index_templates", [])}
            found += template_findings(names.templates(), have)
            required, optional = [names.conversations, names.reports], [names.events]
            got = es.options(ignore_status=404).indices.get_alias(name=",".join([*required, *optional]))
            aliases: dict[str, list[str]] = {}
            for index, body in got.body.items():
                for alias in (body.get("aliases") or {}) if isinstance(body, dict) else ():
                    aliases.setdefault(alias, []).append(index)
            found += alias_findings(required, optional, aliases)
        except (ApiError, TransportError) as exc:
            found.append(problem(f"Elasticsearch at {url} did not answer the templates or aliases: {exc}"))
        return found
    finally:
        es.close()


def _names(endpoint: Callable[[], Iterable[Any]]) -> dict[int, str]:
    return {int(item.id): str(item.name) for item in endpoint()}


def channel_file_findings(env: Env) -> tuple[ChannelsConfig | None, list[Finding]]:
    path = env.ops.channels_file
    if path is None:
        return None, [note("no channel file checked (set THREADLINE_OPS_CHANNELS_FILE to the router's)")]
    try:
        channels = load_channels(path)
    except Exception as exc:  # what the router would refuse to start on: say it as the router would
        return None, [problem(f"the channel file does not load: {exc}")]
    return channels, [ok(f"channel file {path}: {len(channels.channels)} channels")]


def run_doctor(args: argparse.Namespace, env: Env) -> int:
    if args.url is not None:
        endpoint_for(args.url)  # a wrong --url is a usage error (exit 2), before anything is read
    channels, findings = channel_file_findings(env)
    checks = (
        lambda: _kafka(env),
        lambda: _slack(env, channels),
        lambda: _zendesk(env, args.url, channels),
        _elasticsearch,
    )
    for check in checks:
        findings += check()
    problems = [f for f in findings if not f.ok]
    for finding in findings:
        env.say(f"{finding.label} {finding.text}")
    if problems:
        env.say(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found")
        return 1
    env.say("everything checked is as Threadline needs it")
    return 0
