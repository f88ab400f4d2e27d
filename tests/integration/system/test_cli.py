"""The ``smplat`` command against a test database: clear messages, non-zero exit codes on bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from app.db.urls import conninfo
from tests.conftest import TEST_SECRET

SMPLAT = [sys.executable, "-m", "app"]
# A guard against a hanging command, not a speed limit: a loaded CI machine can take a minute for a seed.
HANG_GUARD_SECONDS = 180


def smplat(*args: str, database_url: str | None, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMPLAT_")}
    environment.update({"SMPLAT_ENV": "test", "SMPLAT_SECRET_KEY": TEST_SECRET, **env})
    if database_url:
        environment["SMPLAT_DATABASE_URL"] = database_url
    return subprocess.run(
        [*SMPLAT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )


def test_user_create_then_duplicate_is_refused(clean_db):
    first = smplat(
        "user",
        "create",
        "--email",
        "Ops@SMPLat.example",
        "--role",
        "staff",
        "--password-stdin",
        database_url=clean_db,
        stdin="a long password\n",
    )
    assert first.returncode == 0, first.stderr
    assert "created staff user ops@smplat.example" in first.stdout

    again = smplat(
        "user",
        "create",
        "--email",
        "ops@smplat.example",
        "--role",
        "admin",
        "--password-stdin",
        database_url=clean_db,
        stdin="another long password\n",
    )
    assert again.returncode != 0
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_user_create_leaves_an_audit_row_by_the_command_line(clean_db):
    result = smplat(
        "user",
        "create",
        "--email",
        "ops@smplat.example",
        "--role",
        "admin",
        "--password-stdin",
        database_url=clean_db,
        stdin="a long password\n",
    )
    assert result.returncode == 0, result.stderr

    with psycopg.connect(conninfo(clean_db)) as conn:
        user_id = conn.execute("SELECT id FROM staff_user WHERE email = 'ops@smplat.example'").fetchone()[0]
        rows = conn.execute(
            "SELECT actor_kind, actor_id, action, entity_type, entity_id, diff FROM audit_log"
        ).fetchall()
    assert len(rows) == 1
    actor_kind, actor_id, action, entity_type, entity_id, diff = rows[0]
    assert (actor_kind, actor_id, action, entity_type, entity_id) == ("cli", None, "create", "staff_user", str(user_id))
    assert diff["email"] == {"before": None, "after": "ops@smplat.example"}
    assert diff["role"] == {"before": None, "after": "admin"}
    assert diff["password_hash"] == {"before": None, "after": "***"}
    assert "a long password" not in str(diff)


def test_unknown_role_is_refused_with_the_choices(clean_db):
    result = smplat(
        "user",
        "create",
        "--email",
        "x@smplat.example",
        "--role",
        "boss",
        "--password-stdin",
        database_url=clean_db,
        stdin="a long password\n",
    )
    assert result.returncode != 0
    assert "boss" in result.stderr and "admin" in result.stderr


def test_short_password_is_refused(clean_db):
    result = smplat(
        "user",
        "create",
        "--email",
        "x@smplat.example",
        "--role",
        "staff",
        "--password-stdin",
        database_url=clean_db,
        stdin="short\n",
    )
    assert result.returncode != 0
    assert "password: must be at least 10 characters" in result.stderr


def test_unreachable_database_names_the_url_and_the_reason():
    result = smplat("db", "upgrade", database_url="postgresql://smplat:secret@127.0.0.1:9/nowhere")
    assert result.returncode != 0
    assert "127.0.0.1:9/nowhere" in result.stderr
    assert "secret" not in result.stderr  # the password is redacted
    assert "Traceback" not in result.stderr


def test_db_upgrade_and_downgrade(empty_database_url):
    up = smplat("db", "upgrade", database_url=empty_database_url)
    assert up.returncode == 0, up.stderr
    down = smplat("db", "downgrade", "--revision", "base", database_url=empty_database_url)
    assert down.returncode == 0, down.stderr
    assert "downgraded to base" in down.stdout


def test_commands_refuse_an_unmigrated_database(empty_database_url):
    result = smplat("seed", database_url=empty_database_url)
    assert result.returncode != 0
    assert "smplat db upgrade" in result.stderr


def test_seed_is_idempotent(clean_db):
    first = smplat("seed", database_url=clean_db)
    assert first.returncode == 0, first.stderr
    assert "orders" in first.stdout
    second = smplat("seed", database_url=clean_db)
    assert second.returncode == 0, second.stderr
    assert "nothing to add" in second.stdout


def test_production_refuses_default_secret(clean_db):
    result = smplat("seed", database_url=clean_db, SMPLAT_ENV="prod", SMPLAT_SECRET_KEY="")
    assert result.returncode != 0
    assert "SMPLAT_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("args", [["serve", "--port", "0"], ["serve", "--workers", "0"]])
def test_bad_options_are_refused(args, clean_db):
    result = smplat(*args, database_url=clean_db)
    assert result.returncode == 2
    assert "Invalid value" in result.stderr
