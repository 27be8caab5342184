"""Settings: defaults from content/clinic.yml, environment overrides, missing secrets."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from clinic.handoff.crypto import generate_key
from clinic.handoff.requests import HandoffStore
from clinic.settings import ConfigurationError, load_clinic, load_settings

PRODUCTION = {"CLINIC_ENV": "production"}


def test_defaults_from_clinic_yml(tmp_path: Path) -> None:
    settings = load_settings({"HANDOFF_ENCRYPTION_KEY": generate_key()}, var_dir=tmp_path / "var")
    assert settings.clinic_phone == "+1-555-0100"
    assert settings.clinic_email == "care@clinic.example"
    assert settings.privacy_url == "/privacy"
    assert settings.clinic.time_zone == "America/New_York"
    assert settings.retention_days == 90
    assert settings.inbox_base_url == "http://localhost:8001"
    assert settings.environment == "development"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'handoffs.db'}"
    assert settings.smtp is None and settings.webhook is None
    assert settings.notification_channels == ()
    # The bot can read the clinic facts without any secret.
    assert load_clinic({}).phone == "+1-555-0100"


def test_environment_overrides(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "HANDOFF_ENCRYPTION_KEY": generate_key(),
            "HANDOFF_DATABASE_URL": "postgresql://db.internal/handoffs",
            "CLINIC_PHONE": "+1-555-0199",
            "HANDOFF_RETENTION_DAYS": "30",
            "INBOX_BASE_URL": "https://inbox.clinic.example/",
            "SMTP_HOST": "mail.clinic.example",
            "SMTP_PORT": "587",
            "SMTP_USER": "bot",
            "SMTP_PASSWORD": "hunter2-not-real",
            "COORDINATOR_EMAIL": "a@clinic.example, b@clinic.example",
            "HANDOFF_WEBHOOK_URL": "https://chat.example/hook",
            "HANDOFF_WEBHOOK_SECRET": "s3cret",
        },
        var_dir=tmp_path,
    )
    assert settings.clinic_phone == "+1-555-0199"
    assert settings.retention_days == 30
    assert settings.inbox_base_url == "https://inbox.clinic.example"
    assert settings.database_url == "postgresql://db.internal/handoffs"
    assert settings.smtp is not None and settings.smtp.starttls is True
    assert settings.smtp.recipients == ("a@clinic.example", "b@clinic.example")
    assert settings.smtp.sender == "care@clinic.example"
    assert settings.notification_channels == ("email", "webhook")
    assert "hunter2" not in repr(settings) and "s3cret" not in repr(settings)


def test_missing_key_outside_development_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings(PRODUCTION, var_dir=tmp_path)
    message = str(error.value)
    assert "HANDOFF_ENCRYPTION_KEY is not set" in message
    assert "generate-key" in message
    assert not (tmp_path / "dev-encryption.key").exists()


def test_store_from_settings_refuses_to_start_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_ENV", "production")
    monkeypatch.delenv("HANDOFF_ENCRYPTION_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="HANDOFF_ENCRYPTION_KEY"):
        HandoffStore.from_settings()


def test_invalid_key_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="HANDOFF_ENCRYPTION_KEY is not a valid Fernet key"):
        load_settings({"HANDOFF_ENCRYPTION_KEY": "too-short"}, var_dir=tmp_path)


def test_development_keeps_one_generated_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    var_dir = tmp_path / "var"
    with caplog.at_level(logging.WARNING, logger="clinic.settings"):
        first = load_settings({}, var_dir=var_dir)
    assert "HANDOFF_ENCRYPTION_KEY is not set" in caplog.text
    key_file = var_dir / "dev-encryption.key"
    assert key_file.read_text().strip() == first.encryption_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (var_dir / ".gitignore").read_text().strip().endswith("*")

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="clinic.settings"):
        second = load_settings({}, var_dir=var_dir)
    assert second.encryption_key == first.encryption_key
    assert "HANDOFF_ENCRYPTION_KEY" not in caplog.text  # warned once, when created


def test_inbox_secret_required_outside_development(tmp_path: Path) -> None:
    settings = load_settings({**PRODUCTION, "HANDOFF_ENCRYPTION_KEY": generate_key()}, var_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="INBOX_SECRET_KEY"):
        settings.require_inbox_secret_key()
    dev = load_settings({"HANDOFF_ENCRYPTION_KEY": generate_key()}, var_dir=tmp_path)
    assert dev.require_inbox_secret_key() == dev.require_inbox_secret_key()
    assert len(dev.require_inbox_secret_key()) >= 32


def test_webhook_without_secret_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="HANDOFF_WEBHOOK_SECRET"):
        load_settings(
            {"HANDOFF_ENCRYPTION_KEY": generate_key(), "HANDOFF_WEBHOOK_URL": "https://x.example/hook"},
            var_dir=tmp_path,
        )
