"""Users for ``POST /login``: scrypt-hashed passwords with a per-user salt, compared in constant time.

There are no default users. Create one with ``python -m sample_app.users add NAME`` (password read from
stdin, never echoed or logged), or for a demo set ``APP_DEMO_USERS=name:password,...`` explicitly.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import hmac
import os
import sys
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from sample_app.db import Database
from sample_app.schema import users

SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES, SALT_BYTES = 2**14, 8, 1, 32, 16
_SCHEME = "scrypt"
# Verified when the user does not exist, so an unknown name costs the same time as a wrong password.
_DUMMY_HASH = f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * SALT_BYTES}${'00' * KEY_BYTES}"


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$key`` (hex), with a fresh random salt unless one is given."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=KEY_BYTES)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` hashes to ``stored`` (constant-time comparison of the keys)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        expected = bytes.fromhex(key)
        actual = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except ValueError:
        return False
    return scheme == _SCHEME and hmac.compare_digest(actual, expected)


async def set_password(db: Database, username: str, password: str) -> None:
    """Create the user, or replace the password of an existing one."""
    if not username or not password:
        raise ValueError("a user needs a non-empty name and password")
    hashed = await asyncio.to_thread(hash_password, password)
    async with db.connection() as conn:
        found = (await conn.execute(select(users.c.id).where(users.c.username == username))).first()
        if found is None:
            values = {"username": username, "password_hash": hashed, "created_at": datetime.now(UTC)}
            await conn.execute(insert(users).values(**values))
        else:
            await conn.execute(update(users).where(users.c.id == found.id).values(password_hash=hashed))
        await conn.commit()


async def authenticate(db: Database, username: str, password: str) -> bool:
    """True for a known user with this password; unknown users take as long as wrong passwords."""
    async with db.connection() as conn:
        found = (await conn.execute(select(users.c.password_hash).where(users.c.username == username))).first()
    stored = found.password_hash if found is not None else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, password, stored)
    return ok and found is not None


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


async def _add(name: str, password: str) -> None:
    from sample_app.settings import AppSettings

    settings = AppSettings()
    db = Database(settings.database_url, 1, 0, settings.db_pool_timeout)
    try:
        await db.ensure_schema()
        await set_password(db, name, password)
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    """``python -m sample_app.users add NAME``: create the user (or reset its password) in DATABASE_URL."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "add":
        print("usage: python -m sample_app.users add NAME   (password on stdin)", file=sys.stderr)
        return 2
    password = _read_password()
    if not password:
        print("sample_app.users: empty password, nothing saved", file=sys.stderr)
        return 2
    asyncio.run(_add(args[1], password))
    print(f"user {args[1]} saved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
