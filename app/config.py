"""Settings, read once from the environment (prefix ``SMPLAT_``).

Nothing else in the code base reads ``os.environ``; everything asks :func:`get_settings`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import platformdirs

Environment = Literal["dev", "test", "prod"]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Used in dev and test only; production refuses to start with it.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32
INSTAGRAM_SOURCES = ("off", "graph")
INSTAGRAM_API_BASE = "https://graph.facebook.com/v25.0"


class ConfigError(ValueError):
    """The environment describes a configuration the product refuses to run with."""


@dataclass(frozen=True)
class Settings:
    env: Environment = "dev"
    database_url: str | None = None
    secret_key: str = DEV_SECRET_KEY
    # Key ring for encrypted columns, newest first; empty means SECRET_KEY alone (app/db/crypto.py).
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    base_url: str = "http://127.0.0.1:8000"
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    # smtp://user:pass@host:587?starttls=1 or smtps://…:465; None: mails are caught in the back office (dev, demo).
    smtp_url: str | None = field(default=None, repr=False)
    # The sender address of every mail (the company's e-mail when unset) and where staff alerts go (likewise).
    mail_from: str | None = None
    staff_alert_email: str | None = None
    lexoffice_api_key: str | None = None
    lexoffice_base_url: str = "https://api.lexware.io/v1"
    log_level: str = "INFO"
    log_json: bool = False
    stuck_after_hours: int = 6
    # Where Instagram follower counts come from for the tracking page's chart: "off" (no chart) or "graph" (the
    # Graph API's Business Discovery, asked through the agency's own professional account; app/instagram/graph_api.py).
    instagram_source: str = "off"
    instagram_api_base: str = INSTAGRAM_API_BASE
    instagram_account_id: str | None = None
    instagram_access_token: str | None = field(default=None, repr=False)
    # Meta allows 200 calls per hour and user; the snapshot job stays under it across runs.
    instagram_calls_per_hour: int = 180
    # A profile counted less than this many minutes ago is not asked about again.
    instagram_refresh_minutes: int = 60
    data_dir: Path = field(default_factory=lambda: platformdirs.user_data_path("smplat"))
    # Peers (IP addresses or networks) whose X-Forwarded-For/-Proto/-Host headers are believed.
    trusted_proxies: tuple[str, ...] = ()
    # Host names the app answers for; None: the host of base_url in production, any host in dev and test.
    allowed_hosts: tuple[str, ...] | None = None

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def checkout_origins(self) -> tuple[str, ...]:
        """Where the payment processor's checkout pages are: Stripe's, or the configured API base's origin."""
        if self.stripe_api_base:
            parts = urlsplit(self.stripe_api_base)
            return (f"{parts.scheme}://{parts.netloc}",)
        return ("https://checkout.stripe.com",)

    @property
    def key_ring(self) -> tuple[str, ...]:
        """The passphrases that encrypt columns (the first) and decrypt them (all of them)."""
        return self.encryption_keys or (self.secret_key,)

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)

    @property
    def host_patterns(self) -> tuple[str, ...]:
        """Allowed ``Host`` values: exact names, ``.example.com`` for a domain and its subdomains, ``*`` for any."""
        if self.allowed_hosts is not None:
            return tuple(host.lower() for host in self.allowed_hosts)
        if self.is_prod:
            return ((urlsplit(self.base_url).hostname or "").lower(),)
        return ("*",)

    def validate(self) -> Settings:
        """Refuse settings that are unsafe for the environment; returns self for chaining."""
        if self.env not in ("dev", "test", "prod"):
            raise ConfigError(f"SMPLAT_ENV must be dev, test or prod, not {self.env!r}")
        self._validate_encryption_keys()
        if self.stuck_after_hours < 1:
            raise ConfigError("SMPLAT_STUCK_AFTER_HOURS must be at least 1")
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ConfigError(
                    f"SMPLAT_TRUSTED_PROXIES must list IP addresses or networks (CIDR), not {entry!r}"
                ) from exc
        if self.stripe_secret_key and not self.stripe_webhook_secret:
            raise ConfigError(
                "SMPLAT_STRIPE_WEBHOOK_SECRET must be set with SMPLAT_STRIPE_SECRET_KEY (webhooks are signed)"
            )
        self._validate_instagram_source()
        if self.smtp_url and urlsplit(self.smtp_url).scheme not in ("smtp", "smtps"):
            raise ConfigError("SMPLAT_SMTP_URL must start with smtp:// or smtps://")
        if self.allowed_hosts is not None and not self.allowed_hosts:
            raise ConfigError("SMPLAT_ALLOWED_HOSTS must name at least one host (or * for any)")
        if any(not host or "/" in host or " " in host for host in self.host_patterns):
            raise ConfigError(
                "SMPLAT_ALLOWED_HOSTS must list host names (or set SMPLAT_BASE_URL to the public address)"
            )
        if self.is_prod:
            if not self.secret_key or self.secret_key == DEV_SECRET_KEY:
                raise ConfigError("SMPLAT_SECRET_KEY must be set to a private value in production")
            if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
                raise ConfigError(
                    f"SMPLAT_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters in production"
                )
            if not self.database_url:
                raise ConfigError("SMPLAT_DATABASE_URL must be set in production (no embedded database)")
        return self

    def _validate_instagram_source(self) -> None:
        if self.instagram_source not in INSTAGRAM_SOURCES:
            raise ConfigError(f"SMPLAT_INSTAGRAM_SOURCE must be one of {', '.join(INSTAGRAM_SOURCES)}")
        if self.instagram_source != "graph":
            return
        missing = [
            f"SMPLAT_INSTAGRAM_{name}"
            for name, value in (
                ("ACCOUNT_ID", self.instagram_account_id),
                ("ACCESS_TOKEN", self.instagram_access_token),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                f"SMPLAT_INSTAGRAM_SOURCE=graph needs {' and '.join(missing)} (the agency's professional account)"
            )
        if urlsplit(self.instagram_api_base).scheme not in ("http", "https"):
            raise ConfigError("SMPLAT_INSTAGRAM_API_BASE must start with https:// (or http:// for a local fake)")
        if self.instagram_calls_per_hour < 1:
            raise ConfigError("SMPLAT_INSTAGRAM_CALLS_PER_HOUR must be at least 1")
        if self.instagram_refresh_minutes < 1:
            raise ConfigError("SMPLAT_INSTAGRAM_REFRESH_MINUTES must be at least 1")

    def _validate_encryption_keys(self) -> None:
        """Every key of the ring is a real key: never empty; in production private and long, like SECRET_KEY."""
        for position, key in enumerate(self.encryption_keys, start=1):
            if not key:
                raise ConfigError(f"SMPLAT_ENCRYPTION_KEYS: key {position} is empty (a stray comma?)")
            if self.is_prod and key == DEV_SECRET_KEY:
                raise ConfigError(f"SMPLAT_ENCRYPTION_KEYS: key {position} must be a private value in production")
            if self.is_prod and len(key) < MIN_SECRET_KEY_LENGTH:
                raise ConfigError(
                    f"SMPLAT_ENCRYPTION_KEYS: key {position} must be at least {MIN_SECRET_KEY_LENGTH} characters "
                    "in production"
                )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = environ.get(f"SMPLAT_{name}", "").strip()
            return value or None

        env = get("ENV") or "dev"
        data_dir = get("DATA_DIR")
        try:
            stuck_hours = int(get("STUCK_AFTER_HOURS") or 6)
        except ValueError as exc:
            raise ConfigError("SMPLAT_STUCK_AFTER_HOURS must be a whole number of hours") from exc
        calls_per_hour = _whole(get("INSTAGRAM_CALLS_PER_HOUR"), 180, "SMPLAT_INSTAGRAM_CALLS_PER_HOUR")
        refresh_minutes = _whole(get("INSTAGRAM_REFRESH_MINUTES"), 60, "SMPLAT_INSTAGRAM_REFRESH_MINUTES")
        settings = cls(
            env=env,  # type: ignore[arg-type]  # checked in validate()
            database_url=get("DATABASE_URL"),
            secret_key=get("SECRET_KEY") or ("" if env == "prod" else DEV_SECRET_KEY),
            encryption_keys=tuple(key.strip() for key in ring.split(",")) if (ring := get("ENCRYPTION_KEYS")) else (),
            base_url=(get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            stripe_secret_key=get("STRIPE_SECRET_KEY"),
            stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET"),
            stripe_api_base=get("STRIPE_API_BASE"),
            smtp_url=get("SMTP_URL"),
            mail_from=get("MAIL_FROM"),
            staff_alert_email=get("STAFF_ALERT_EMAIL"),
            lexoffice_api_key=get("LEXOFFICE_API_KEY"),
            lexoffice_base_url=get("LEXOFFICE_BASE_URL") or "https://api.lexware.io/v1",
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            log_json=(get("LOG_JSON") or ("1" if env == "prod" else "0")) in ("1", "true", "yes"),
            stuck_after_hours=stuck_hours,
            instagram_source=(get("INSTAGRAM_SOURCE") or "off").lower(),
            instagram_api_base=(get("INSTAGRAM_API_BASE") or INSTAGRAM_API_BASE).rstrip("/"),
            instagram_account_id=get("INSTAGRAM_ACCOUNT_ID"),
            instagram_access_token=get("INSTAGRAM_ACCESS_TOKEN"),
            instagram_calls_per_hour=calls_per_hour,
            instagram_refresh_minutes=refresh_minutes,
            data_dir=Path(data_dir).expanduser() if data_dir else platformdirs.user_data_path("smplat"),
            trusted_proxies=_list(get("TRUSTED_PROXIES")),
            allowed_hosts=_list(allowed_hosts) if (allowed_hosts := get("ALLOWED_HOSTS")) else None,
        )
        return settings.validate()


def _whole(value: str | None, default: int, name: str) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number") from exc


def _list(value: str | None) -> tuple[str, ...]:
    """A comma-separated setting as a tuple of its non-empty entries."""
    return tuple(entry.strip() for entry in (value or "").split(",") if entry.strip())


@lru_cache(maxsize=1)
def _settings_from_env() -> Settings:
    return Settings.from_env(os.environ)


_active: Settings | None = None


def get_settings() -> Settings:
    """The settings this process runs with: those the app was created with, else the environment's."""
    return _active if _active is not None else _settings_from_env()


def use_settings(settings: Settings | None) -> Settings | None:
    """Make ``settings`` the process's settings (``create_app`` does this); returns the previous ones.

    Process-wide on purpose: values such as the key that encrypts provider API keys are read by code with no
    app at hand (SQLAlchemy column types), and must agree with the app serving the process.
    """
    global _active
    previous, _active = _active, settings
    return previous


def reload_settings() -> Settings:
    """Read the environment again (after a command has exported values for its child processes)."""
    _settings_from_env.cache_clear()
    return get_settings()
