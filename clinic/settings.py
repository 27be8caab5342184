"""The clinic's settings and facts, read by the bot and the back end alike: one loader, one class.

Clinic facts (name, phone, office hours, retention, limits) live in content/clinic.yml, which
editors own; environment variables override them. Secrets and deployment choices (database,
keys, SMTP, webhook) come from environment variables only, so they never end up in the
repository. What the bot tells visitors needs no secret: ``load_clinic()``, or
``load_settings(secrets=False)``, reads the facts without them.

Missing secrets are handled differently per environment. In development
(``CLINIC_ENV=development``, the default for ``make run``) a key is generated once and
kept under ``var/`` so records stay readable across restarts. Anywhere else start-up
fails with a message naming the variable, because silently inventing a key in
production would make the data unreadable after the next deploy.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from clinic.handoff.crypto import InvalidKeyError, build_cipher, generate_key
from clinic.handoff.office_hours import DAY_NAMES, OfficeHours

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "content" / "clinic.yml"
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEV_KEY_FILENAME = "dev-encryption.key"
DEV_INBOX_SECRET_FILENAME = "dev-inbox-secret.key"
DEVELOPMENT = "development"

KEY_HELP = (
    "Create one with `python -m clinic.handoff.cli generate-key` (or "
    "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`) "
    "and keep it in your secret store: records written with a key cannot be read without it."
)


class ConfigurationError(RuntimeError):
    """The environment or content/clinic.yml is incomplete or invalid."""


@dataclass(frozen=True)
class Clinic:
    """Facts the bot tells visitors (how to reach the clinic, privacy notice)."""

    name: str
    phone: str
    email: str
    privacy_url: str
    time_zone: str
    time_zone_label: str


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    sender: str
    recipients: tuple[str, ...]
    starttls: bool
    ssl: bool


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class HandoffLimits:
    """New requests accepted per conversation and per client address in one window, so one
    visitor or one script cannot flood the care team (``handoff.limits`` in clinic.yml)."""

    window: timedelta = timedelta(hours=1)
    per_conversation: int = 2
    per_client: int = 5


@dataclass(frozen=True)
class LiveChatSettings:
    """Live chat with a coordinator (``live_chat`` in clinic.yml, docs/live-chat.md): how long a
    visitor waits before the call-back form is offered, and how long an inbox page may stay
    silent before its coordinator counts as gone."""

    wait_limit: timedelta = timedelta(minutes=3)
    presence: timedelta = timedelta(seconds=60)
    max_message_length: int = 2000

    @property
    def wait_limit_minutes(self) -> float:
        return self.wait_limit.total_seconds() / 60

    @property
    def presence_seconds(self) -> float:
        return self.presence.total_seconds()


@dataclass(frozen=True)
class Settings:
    """Everything the bot, the store, the worker and the inbox need, already validated: the
    clinic's facts, then the deployment's settings and secrets (empty with ``secrets=False``)."""

    clinic: Clinic
    office_hours: OfficeHours
    retention_days: int
    inbox_base_url: str
    limits: HandoffLimits = HandoffLimits()
    abandoned_form_after: timedelta = timedelta(minutes=60)
    live_chat: LiveChatSettings = LiveChatSettings()
    database_url: str = ""
    encryption_key: str = field(default="", repr=False)
    environment: str = DEVELOPMENT
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings | None = None
    inbox_secret_key: str | None = field(default=None, repr=False)
    var_dir: Path = DEFAULT_VAR_DIR

    @property
    def is_development(self) -> bool:
        return self.environment == DEVELOPMENT

    @property
    def notification_channels(self) -> tuple[str, ...]:
        """Outbox kinds to queue for every new handoff (only the configured ones)."""
        channels = []
        if self.smtp is not None:
            channels.append("email")
        if self.webhook is not None:
            channels.append("webhook")
        return tuple(channels)

    # Convenience accessors for the bot's messages.
    @property
    def clinic_phone(self) -> str:
        return self.clinic.phone

    @property
    def clinic_email(self) -> str:
        return self.clinic.email

    @property
    def privacy_url(self) -> str:
        return self.clinic.privacy_url

    def require_inbox_secret_key(self) -> str:
        """The Flask session key: INBOX_SECRET_KEY, or a kept dev key in development."""
        if self.inbox_secret_key:
            return self.inbox_secret_key
        if not self.is_development:
            raise ConfigurationError(
                "INBOX_SECRET_KEY is not set. The coordinators' inbox signs its session cookies "
                "with it; set it to a long random value, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        return _keep_dev_secret(
            self.var_dir / DEV_INBOX_SECRET_FILENAME,
            lambda: secrets.token_urlsafe(48),
            "INBOX_SECRET_KEY is not set; using a development key kept in %s",
        )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except FileNotFoundError as exc:
        raise ConfigurationError(f"clinic configuration file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} must contain a mapping at the top level")
    return data


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"`{name}` in the clinic configuration must be a mapping")
    return value


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _parse_clock(value: Any, what: str) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 09:00 as sexagesimal minutes (540).
        return time(value // 60, value % 60)
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigurationError(f"office_hours.{what} must look like 09:00, got {value!r}") from exc


def _parse_int(value: Any, name: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}") from exc
    if number < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {number}")
    return number


def _config_path(environ: Mapping[str, str], config_path: Path | None) -> Path:
    if config_path is not None:
        return Path(config_path)
    from_env = _env(environ, "CLINIC_CONFIG")
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


def _clinic(environ: Mapping[str, str], data: Mapping[str, Any]) -> Clinic:
    section = _section(data, "clinic")
    clinic = Clinic(
        name=_env(environ, "CLINIC_NAME") or str(section.get("name", "the clinic")),
        phone=_env(environ, "CLINIC_PHONE") or str(section.get("phone", "")),
        email=_env(environ, "CLINIC_EMAIL") or str(section.get("email", "")),
        privacy_url=_env(environ, "CLINIC_PRIVACY_URL") or str(section.get("privacy_notice_url", "/privacy")),
        time_zone=_env(environ, "CLINIC_TIME_ZONE") or str(section.get("time_zone", "UTC")),
        time_zone_label=str(section.get("time_zone_label", "")),
    )
    if not clinic.phone or not clinic.email:
        raise ConfigurationError("clinic.phone and clinic.email must be set in the clinic configuration")
    return clinic


def _office_hours(data: Mapping[str, Any], clinic: Clinic) -> OfficeHours:
    section = _section(data, "office_hours")
    day_names = section.get("days", list(DAY_NAMES[:5]))
    try:
        days = frozenset(DAY_NAMES.index(str(name).strip().lower()[:3]) for name in day_names)
    except ValueError as exc:
        raise ConfigurationError(f"office_hours.days must use {', '.join(DAY_NAMES)}") from exc
    closed: set[date] = set()
    for value in section.get("closed_dates") or []:
        try:
            closed.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError as exc:
            raise ConfigurationError(f"office_hours.closed_dates: {value!r} is not YYYY-MM-DD") from exc
    try:
        return OfficeHours(
            time_zone=clinic.time_zone,
            open=_parse_clock(section.get("open", "09:00"), "open"),
            close=_parse_clock(section.get("close", "17:00"), "close"),
            days=days,
            closed_dates=frozenset(closed),
            time_zone_label=clinic.time_zone_label,
        )
    except ValueError as exc:  # includes an unknown time zone name
        raise ConfigurationError(f"office hours configuration: {exc}") from exc


def _keep_dev_secret(path: Path, make: Any, warning: str) -> str:
    """Read a development secret from ``path``, creating it (mode 600) the first time."""
    ensure_var_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    value = make()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    log.warning(warning + " (development only; never use it in production)", path)
    return value


def ensure_var_dir(var_dir: Path) -> Path:
    """Create the runtime data directory, with a .gitignore so nothing in it is committed."""
    var_dir.mkdir(parents=True, exist_ok=True)
    ignore = var_dir / ".gitignore"
    if not ignore.exists():
        try:
            ignore.write_text("# Runtime data and development keys: never commit.\n*\n", encoding="utf-8")
        except OSError:
            pass
    return var_dir


def _encryption_key(environ: Mapping[str, str], environment: str, var_dir: Path) -> str:
    key = _env(environ, "HANDOFF_ENCRYPTION_KEY")
    if key is None:
        if environment != DEVELOPMENT:
            raise ConfigurationError(
                f"HANDOFF_ENCRYPTION_KEY is not set (CLINIC_ENV={environment}). Visitors' contact "
                f"details are encrypted with it. {KEY_HELP}"
            )
        key = _keep_dev_secret(
            var_dir / DEV_KEY_FILENAME,
            generate_key,
            "HANDOFF_ENCRYPTION_KEY is not set; using a development key kept in %s",
        )
    try:
        build_cipher(key)
    except InvalidKeyError as exc:
        raise ConfigurationError(f"HANDOFF_ENCRYPTION_KEY is {exc}. {KEY_HELP}") from exc
    return key


def _smtp(environ: Mapping[str, str], clinic: Clinic) -> SmtpSettings | None:
    host = _env(environ, "SMTP_HOST")
    if host is None:
        return None
    port = _parse_int(_env(environ, "SMTP_PORT") or "587", "SMTP_PORT", minimum=1)
    starttls_env = _env(environ, "SMTP_STARTTLS")
    starttls = port == 587 if starttls_env is None else starttls_env.lower() in {"1", "true", "yes", "on"}
    recipients = tuple(
        part.strip()
        for part in (_env(environ, "COORDINATOR_EMAIL") or clinic.email).split(",")
        if part.strip()
    )
    return SmtpSettings(
        host=host,
        port=port,
        user=_env(environ, "SMTP_USER"),
        password=environ.get("SMTP_PASSWORD") or None,
        sender=_env(environ, "SMTP_FROM") or clinic.email,
        recipients=recipients,
        starttls=starttls,
        ssl=port == 465,
    )


def _webhook(environ: Mapping[str, str]) -> WebhookSettings | None:
    url = _env(environ, "HANDOFF_WEBHOOK_URL")
    if url is None:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError("HANDOFF_WEBHOOK_URL must start with http:// or https://")
    secret = environ.get("HANDOFF_WEBHOOK_SECRET") or ""
    if not secret:
        raise ConfigurationError(
            "HANDOFF_WEBHOOK_URL is set but HANDOFF_WEBHOOK_SECRET is not; the receiver verifies "
            "the X-Clinic-Signature header with it. Share a long random value with the receiver."
        )
    return WebhookSettings(url=url, secret=secret)


def _limits(section: Mapping[str, Any]) -> HandoffLimits:
    limits = section.get("limits") or {}
    if not isinstance(limits, Mapping):
        raise ConfigurationError("`handoff.limits` in the clinic configuration must be a mapping")
    default = HandoffLimits()
    minutes = default.window.total_seconds() / 60
    return HandoffLimits(
        window=timedelta(
            minutes=_parse_int(limits.get("window_minutes", minutes), "handoff.limits.window_minutes", 1)
        ),
        per_conversation=_parse_int(
            limits.get("per_conversation", default.per_conversation), "handoff.limits.per_conversation", 1
        ),
        per_client=_parse_int(limits.get("per_client", default.per_client), "handoff.limits.per_client", 1),
    )


def _abandoned_form_after(data: Mapping[str, Any]) -> timedelta:
    minutes = _section(data, "privacy").get("abandoned_form_minutes", 60)
    return timedelta(minutes=_parse_int(minutes, "privacy.abandoned_form_minutes", 1))


def _live_chat(environ: Mapping[str, str], data: Mapping[str, Any]) -> LiveChatSettings:
    """``live_chat`` in clinic.yml; LIVE_CHAT_WAIT_LIMIT_MINUTES and LIVE_CHAT_PRESENCE_SECONDS
    override it (the end-to-end tests shorten both)."""
    section = _section(data, "live_chat")
    default = LiveChatSettings()
    wait = _env(environ, "LIVE_CHAT_WAIT_LIMIT_MINUTES") or section.get(
        "wait_limit_minutes", default.wait_limit_minutes
    )
    presence = _env(environ, "LIVE_CHAT_PRESENCE_SECONDS") or section.get(
        "presence_seconds", default.presence_seconds
    )
    length = section.get("max_message_length", default.max_message_length)
    try:
        wait_minutes, presence_seconds = float(wait), float(presence)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            "live_chat.wait_limit_minutes and live_chat.presence_seconds must be numbers"
        ) from exc
    if wait_minutes <= 0 or presence_seconds < 5:
        raise ConfigurationError(
            "live_chat.wait_limit_minutes must be above 0 and live_chat.presence_seconds at least 5"
        )
    return LiveChatSettings(
        wait_limit=timedelta(minutes=wait_minutes),
        presence=timedelta(seconds=presence_seconds),
        max_message_length=_parse_int(length, "live_chat.max_message_length", 1),
    )


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    config_path: Path | None = None,
    var_dir: Path | None = None,
    secrets: bool = True,
) -> Settings:
    """Read and validate the settings; raises ConfigurationError with a fix-it message.

    With ``secrets=False`` only the clinic's facts and the public settings are read (no
    encryption key, SMTP or webhook is looked at, and none is required)."""
    environ = os.environ if environ is None else environ
    var_dir = Path(var_dir) if var_dir is not None else DEFAULT_VAR_DIR
    data = _read_yaml(_config_path(environ, config_path))
    clinic = _clinic(environ, data)
    handoff_section = _section(data, "handoff")
    retention = _env(environ, "HANDOFF_RETENTION_DAYS") or handoff_section.get("retention_days", 90)
    inbox_base_url = _env(environ, "INBOX_BASE_URL") or str(
        handoff_section.get("inbox_base_url", "http://localhost:8001")
    )
    facts = Settings(
        clinic=clinic,
        office_hours=_office_hours(data, clinic),
        retention_days=_parse_int(retention, "retention_days", minimum=1),
        inbox_base_url=inbox_base_url.rstrip("/"),
        limits=_limits(handoff_section),
        abandoned_form_after=_abandoned_form_after(data),
        live_chat=_live_chat(environ, data),
        var_dir=var_dir,
    )
    if not secrets:
        return facts
    environment = (_env(environ, "CLINIC_ENV") or DEVELOPMENT).lower()
    return replace(
        facts,
        database_url=_env(environ, "HANDOFF_DATABASE_URL") or f"sqlite:///{var_dir / 'handoffs.db'}",
        encryption_key=_encryption_key(environ, environment, var_dir),
        environment=environment,
        smtp=_smtp(environ, clinic),
        webhook=_webhook(environ),
        inbox_secret_key=_env(environ, "INBOX_SECRET_KEY"),
    )


def load_clinic(environ: Mapping[str, str] | None = None, *, config_path: Path | None = None) -> Clinic:
    """The clinic's facts only (name, phone, email, privacy notice): what the bot tells visitors.
    Reads only the file's `clinic` section, so a mistake elsewhere in it cannot silence them."""
    environ = os.environ if environ is None else environ
    return _clinic(environ, _read_yaml(_config_path(environ, config_path)))
