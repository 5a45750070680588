"""Login: scrypt-hashed users (no defaults), counted and audited attempts, passwords never logged."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from obsstack_fastapi.redact import REDACTED

from sample_app.settings import AppSettings
from sample_app.users import hash_password, set_password, verify_password

REPO = Path(__file__).resolve().parents[2]  # sample_app runs from the repository root

AUTH = {"Authorization": "Bearer adm1n-token"}
DEMO = {"admin_token": "adm1n-token", "demo_users": "alice:c0rrect-horse,bob@example.com:b0b-pass"}


def test_hashes_are_salted_scrypt() -> None:
    """The same password hashes differently per salt and verifies only with itself."""
    first, second = hash_password("pw-1"), hash_password("pw-1")
    assert first.startswith("scrypt$")
    assert first != second
    assert verify_password("pw-1", first)
    assert verify_password("pw-1", second)
    assert not verify_password("pw-2", first)
    assert not verify_password("pw-1", "not-a-hash")


async def test_no_default_users(running: Callable) -> None:
    """Without APP_DEMO_USERS nobody can log in; the failure is counted (401)."""
    harness, client = await running()
    response = await client.post("/login", json={"username": "admin", "password": "admin"})
    assert response.status_code == 401
    assert harness.sample("login_attempts_total", {"result": "failure"}) == 1


async def test_login_is_counted_and_audited(running: Callable) -> None:
    """Success and failure are counted by result and audited with the username as actor."""
    harness, client = await running(**DEMO)
    ok = await client.post("/login", json={"username": "alice", "password": "c0rrect-horse"})
    assert ok.status_code == 200
    bad = await client.post("/login", json={"username": "alice", "password": "wrong"})
    assert bad.status_code == 401
    assert harness.sample("login_attempts_total", {"result": "success"}) == 1
    assert harness.sample("login_attempts_total", {"result": "failure"}) == 1
    rows = (await client.get("/audit", headers=AUTH)).json()["items"]
    assert [(r["action"], r["actor"], r["after"]) for r in rows] == [
        ("login.failure", "alice", {"result": "failure"}),
        ("login.success", "alice", {"result": "success"}),
    ]


async def test_email_usernames_are_redacted_and_passwords_never_logged(running: Callable) -> None:
    """An email username is redacted in the audit row; no password appears in any log line or row."""
    harness, client = await running(**DEMO)
    for password, status in (("b0b-pass", 200), ("typo-pass", 401)):
        response = await client.post("/login", json={"username": "bob@example.com", "password": password})
        assert response.status_code == status
    row = (await client.get("/audit", headers=AUTH)).json()["items"][0]
    assert row["actor"] == REDACTED
    assert "bob@example.com" not in row["target"]
    text = harness.logs.getvalue() + (await client.get("/audit", headers=AUTH)).text
    for secret in ("b0b-pass", "typo-pass", "c0rrect-horse", "bob@example.com"):
        assert secret not in text


async def test_set_password_replaces(running: Callable) -> None:
    """Saving an existing user again replaces its password."""
    harness, client = await running(**DEMO)
    await set_password(harness.app.state.db, "alice", "new-secret")
    assert (await client.post("/login", json={"username": "alice", "password": "c0rrect-horse"})).status_code == 401
    assert (await client.post("/login", json={"username": "alice", "password": "new-secret"})).status_code == 200


def test_demo_users_setting_is_parsed_without_echoing_passwords() -> None:
    """APP_DEMO_USERS is name:password pairs; a malformed entry names its position, not its content."""
    assert AppSettings(demo_users="a:x,b:y:z").demo_user_pairs() == [("a", "x"), ("b", "y:z")]
    with pytest.raises(ValueError, match="entry 2") as error:
        AppSettings(demo_users="a:x,secretvalue").demo_user_pairs()
    assert "secretvalue" not in str(error.value)


def test_cli_adds_a_user_from_stdin(tmp_path: Path) -> None:
    """`python -m sample_app.users add NAME` reads the password from stdin and stores only its hash."""
    db_file = tmp_path / "users.db"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": f"sqlite+aiosqlite:///{db_file}",
           "PYTHONPATH": str(REPO)}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "sample_app.users", "add", "carol"], input="s3cret-pw\n", env=env,
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "carol" in result.stdout
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert b"s3cret-pw" not in db_file.read_bytes()
    usage = subprocess.run([sys.executable, "-m", "sample_app.users"], env=env, capture_output=True, text=True,
                           timeout=60, cwd=tmp_path, check=False)  # fmt: skip
    assert usage.returncode == 2
