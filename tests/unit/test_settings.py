from __future__ import annotations

import pytest

from app.config import DEV_SECRET_KEY, ConfigError, Settings

PROD_SECRET = "p" * 40


def test_dev_defaults_run_without_any_environment():
    settings = Settings.from_env({})
    assert settings.env == "dev"
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.database_url is None


def test_production_refuses_missing_secret():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"SMPLAT_ENV": "prod", "SMPLAT_DATABASE_URL": "postgresql://db/smplat"})


def test_production_refuses_the_development_secret():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env(
            {"SMPLAT_ENV": "prod", "SMPLAT_SECRET_KEY": DEV_SECRET_KEY, "SMPLAT_DATABASE_URL": "postgresql://db/smplat"}
        )


def test_production_refuses_a_short_secret():
    with pytest.raises(ConfigError, match="at least 32"):
        Settings.from_env(
            {"SMPLAT_ENV": "prod", "SMPLAT_SECRET_KEY": "short", "SMPLAT_DATABASE_URL": "postgresql://db/smplat"}
        )


def test_production_refuses_the_embedded_database():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env({"SMPLAT_ENV": "prod", "SMPLAT_SECRET_KEY": PROD_SECRET})


def test_production_with_secret_and_database_is_accepted():
    settings = Settings.from_env(
        {"SMPLAT_ENV": "prod", "SMPLAT_SECRET_KEY": PROD_SECRET, "SMPLAT_DATABASE_URL": "postgresql://db/smplat"}
    )
    assert settings.is_prod and settings.log_json


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="dev, test or prod"):
        Settings.from_env({"SMPLAT_ENV": "staging"})


def test_non_numeric_stuck_hours_is_refused_with_a_message():
    with pytest.raises(ConfigError, match="whole number"):
        Settings.from_env({"SMPLAT_STUCK_AFTER_HOURS": "soon"})


def test_base_url_loses_trailing_slash():
    assert Settings.from_env({"SMPLAT_BASE_URL": "https://shop.example/"}).base_url == "https://shop.example"


def test_instagram_snapshots_are_off_unless_a_source_is_named_and_never_invented_in_production():
    assert Settings.from_env({}).instagram_source == "off"
    assert Settings.from_env({"SMPLAT_INSTAGRAM_SOURCE": "Sandbox"}).instagram_source == "sandbox"
    with pytest.raises(ConfigError, match="SMPLAT_INSTAGRAM_SOURCE must be one of off, sandbox"):
        Settings.from_env({"SMPLAT_INSTAGRAM_SOURCE": "graph"})
    prod = {"SMPLAT_ENV": "prod", "SMPLAT_SECRET_KEY": PROD_SECRET, "SMPLAT_DATABASE_URL": "postgresql://db/smplat"}
    with pytest.raises(ConfigError, match="not in production"):
        Settings.from_env({**prod, "SMPLAT_INSTAGRAM_SOURCE": "sandbox"})
