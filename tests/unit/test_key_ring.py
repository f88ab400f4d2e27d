"""The key ring of encrypted columns: format, rotation, unreadable values, and its setting."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from advanced_alchemy.types import EncryptedString
from sqlalchemy.dialects import postgresql

from app.config import DEV_SECRET_KEY, ConfigError, Settings, use_settings
from app.db.crypto import EncryptedSecret, KeyRing, UnreadableSecret, configured_keys

DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
OLD = "the-old-ring-key-" + "o" * 20
NEW = "the-new-ring-key-" + "n" * 20
PROD = {"SMPLAT_ENV": "prod", "SMPLAT_SECRET_KEY": "s" * 40, "SMPLAT_DATABASE_URL": "postgresql://db/smplat"}


def column(*keys: str, length: int | None = 500) -> EncryptedSecret:
    return EncryptedSecret("provider-api-key", length=length, keys=lambda: keys)


def write(kind: EncryptedSecret, value: object) -> str | None:
    return kind.process_bind_param(value, DIALECT)


def read(kind: EncryptedSecret, stored: str | None) -> object:
    return kind.process_result_value(stored, DIALECT)


def legacy_column(secret: str) -> EncryptedString:
    """The column type provider keys were written with before the ring (advanced-alchemy, key from SECRET_KEY)."""
    return EncryptedString(
        key=lambda: hashlib.sha256(b"smplat:provider-api-key:" + secret.encode()).digest(), length=500
    )


def test_values_written_before_the_ring_are_read_with_the_secret_key_as_the_ring():
    stored = legacy_column(OLD).process_bind_param("sk-written-long-ago", DIALECT)

    assert read(column(OLD), stored) == "sk-written-long-ago"
    assert read(column(NEW, OLD), stored) == "sk-written-long-ago"


def test_values_the_ring_writes_stay_readable_by_the_previous_release():
    """Rolling back a release must not make keys written since unreadable (same ring, same format)."""
    stored = write(column(OLD), "sk-written-now")

    assert legacy_column(OLD).process_result_value(stored, DIALECT) == "sk-written-now"


def test_the_first_key_encrypts_and_every_key_decrypts():
    stored = write(column(NEW, OLD), "sk-1")

    assert read(column(NEW), stored) == "sk-1"
    assert read(column(OLD, NEW), stored) == "sk-1"
    assert isinstance(read(column(OLD), stored), UnreadableSecret)
    assert KeyRing((NEW, OLD), "provider-api-key").key_index(stored or "") == 0


def test_each_purpose_gets_its_own_key():
    stored = write(column(OLD), "sk-1")

    assert isinstance(read(EncryptedSecret("another-purpose", keys=lambda: (OLD,)), stored), UnreadableSecret)


def test_a_value_no_key_reads_loads_as_unreadable_and_is_written_back_unchanged():
    stored = write(column(OLD), "sk-1")
    assert stored is not None

    loaded = read(column(NEW), stored)

    assert loaded == UnreadableSecret(stored)
    assert write(column(NEW), loaded) == stored
    assert str(loaded) == "(unreadable)"
    assert stored not in repr(loaded)


@pytest.mark.parametrize("stored", ["", "not a token", "gAAAAA" + "x" * 90, "ünïcode"])
def test_anything_that_is_not_a_token_of_the_ring_loads_as_unreadable(stored):
    assert read(column(OLD), stored) == UnreadableSecret(stored)


def test_none_stays_none_both_ways():
    assert write(column(OLD), None) is None
    assert read(column(OLD), None) is None


def test_rotation_moves_a_value_to_the_first_key_and_keeps_its_plaintext():
    ring = KeyRing((NEW, OLD), "provider-api-key")
    stored = write(column(OLD), "sk-1") or ""
    assert ring.key_index(stored) == 1

    rotated = ring.rotate(stored)

    assert ring.key_index(rotated) == 0
    assert read(column(NEW), rotated) == "sk-1"


def test_the_plaintext_length_is_limited_without_showing_the_value():
    with pytest.raises(ValueError, match="at most 5 characters") as refused:
        write(column(OLD, length=5), "sk-123456")
    assert "sk-123456" not in str(refused.value)
    assert write(column(OLD, length=5), "sk-12") is not None


def test_a_non_string_is_refused():
    with pytest.raises(TypeError):
        write(column(OLD), 12345)


def test_the_ring_follows_the_settings_the_process_runs_with():
    previous = use_settings(Settings(env="test", secret_key=OLD))
    try:
        assert configured_keys() == (OLD,)
        use_settings(Settings(env="test", secret_key=OLD, encryption_keys=(NEW, OLD)))
        assert configured_keys() == (NEW, OLD)
        stored = write(EncryptedSecret("provider-api-key"), "sk-1")
        assert read(column(NEW), stored) == "sk-1"
    finally:
        use_settings(previous)


# -- the setting -----------------------------------------------------------------------------------------------


def test_without_encryption_keys_the_ring_is_the_secret_key_alone():
    settings = Settings.from_env({"SMPLAT_SECRET_KEY": OLD})
    assert settings.encryption_keys == ()
    assert settings.key_ring == (OLD,)


def test_encryption_keys_are_read_newest_first():
    settings = Settings.from_env({"SMPLAT_SECRET_KEY": "x" * 40, "SMPLAT_ENCRYPTION_KEYS": f" {NEW} , {OLD} "})
    assert settings.key_ring == (NEW, OLD)


def test_an_empty_key_in_the_ring_is_refused():
    with pytest.raises(ConfigError, match="key 2 is empty"):
        Settings.from_env({"SMPLAT_ENCRYPTION_KEYS": f"{NEW},,{OLD}"})


def test_production_accepts_a_ring_of_long_private_keys():
    settings = Settings.from_env({**PROD, "SMPLAT_ENCRYPTION_KEYS": f"{NEW},{OLD}"})
    assert settings.key_ring == (NEW, OLD)


@pytest.mark.parametrize("weak", ["short", DEV_SECRET_KEY])
def test_production_refuses_a_weak_key_anywhere_in_the_ring(weak):
    with pytest.raises(ConfigError, match="SMPLAT_ENCRYPTION_KEYS: key 2") as refused:
        Settings.from_env({**PROD, "SMPLAT_ENCRYPTION_KEYS": f"{NEW},{weak}"})
    assert NEW not in str(refused.value)
    assert weak not in str(refused.value)


def test_settings_never_show_the_ring():
    settings = replace(Settings(), encryption_keys=(NEW, OLD))
    assert NEW not in repr(settings)
    assert OLD not in repr(settings)
