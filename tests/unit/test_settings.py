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


def test_instagram_snapshots_are_off_unless_the_graph_source_is_named():
    assert Settings.from_env({}).instagram_source == "off"
    with pytest.raises(ConfigError, match="SMPLAT_INSTAGRAM_SOURCE must be one of off, graph"):
        Settings.from_env({"SMPLAT_INSTAGRAM_SOURCE": "sandbox"})


def test_the_graph_source_says_which_account_settings_are_missing():
    with pytest.raises(ConfigError, match="needs SMPLAT_INSTAGRAM_ACCOUNT_ID and SMPLAT_INSTAGRAM_ACCESS_TOKEN"):
        Settings.from_env({"SMPLAT_INSTAGRAM_SOURCE": "Graph"})
    with pytest.raises(ConfigError, match=r"needs SMPLAT_INSTAGRAM_ACCESS_TOKEN \("):
        Settings.from_env({"SMPLAT_INSTAGRAM_SOURCE": "graph", "SMPLAT_INSTAGRAM_ACCOUNT_ID": "17841405309211844"})
    graph = {
        "SMPLAT_INSTAGRAM_SOURCE": "graph",
        "SMPLAT_INSTAGRAM_ACCOUNT_ID": "17841405309211844",
        "SMPLAT_INSTAGRAM_ACCESS_TOKEN": "EAAG-secret",
    }
    with pytest.raises(ConfigError, match="SMPLAT_INSTAGRAM_CALLS_PER_HOUR must be a whole number"):
        Settings.from_env({**graph, "SMPLAT_INSTAGRAM_CALLS_PER_HOUR": "lots"})
    with pytest.raises(ConfigError, match="SMPLAT_INSTAGRAM_REFRESH_MINUTES must be at least 1"):
        Settings.from_env({**graph, "SMPLAT_INSTAGRAM_REFRESH_MINUTES": "0"})

    settings = Settings.from_env(
        {
            **graph,
            "SMPLAT_ENV": "prod",
            "SMPLAT_SECRET_KEY": PROD_SECRET,
            "SMPLAT_DATABASE_URL": "postgresql://db/smplat",
        }
    )

    assert settings.instagram_api_base == "https://graph.facebook.com/v25.0"
    assert (settings.instagram_calls_per_hour, settings.instagram_refresh_minutes) == (180, 60)
    assert "EAAG-secret" not in repr(settings)
