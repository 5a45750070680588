"""The sample app's settings: the observability settings plus server, database, downstream, faults, admin."""

from __future__ import annotations

from pathlib import Path

from obsstack_fastapi.settings import ObservabilitySettings, read_secret
from pydantic import AliasChoices, Field, SecretStr, model_validator


def parse_demo_users(value: str) -> list[tuple[str, str]]:
    """``"alice:pw1,bob:pw2"`` -> pairs; an error names the entry's position, never its password."""
    pairs = []
    for index, item in enumerate(part.strip() for part in value.split(",") if part.strip()):
        name, sep, password = item.partition(":")
        if not sep or not name.strip() or not password:
            raise ValueError(f"APP_DEMO_USERS entry {index + 1}: expected name:password")
        pairs.append((name.strip(), password))
    return pairs


class AppSettings(ObservabilitySettings):
    """One settings root; env ``APP_*`` plus ``DATABASE_URL`` and the standard OTel/Sentry names."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    database_url: str = Field(
        "sqlite+aiosqlite:///./orders.db", validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    db_pool_size: int = Field(5, ge=1)
    db_max_overflow: int = Field(0, ge=0)
    db_pool_timeout: float = Field(5.0, gt=0.0)
    downstream_url: str | None = None
    downstream_timeout: float = Field(2.0, gt=0.0)
    faults_enabled: bool = False
    faults_token: SecretStr | None = None
    faults_token_file: Path | None = None
    faults_seed: int | None = None
    payments_seed: int | None = None
    admin_token: SecretStr | None = None
    admin_token_file: Path | None = None
    demo_users: SecretStr | None = None

    @model_validator(mode="after")
    def _faults_need_a_token(self) -> AppSettings:
        if self.faults_enabled and self.faults_token is None and self.faults_token_file is None:
            raise ValueError("APP_FAULTS_ENABLED=true needs APP_FAULTS_TOKEN or APP_FAULTS_TOKEN_FILE")
        return self

    @property
    def db_capacity(self) -> int:
        """pool_size + max_overflow."""
        return self.db_pool_size + self.db_max_overflow

    def resolved_faults_token(self) -> str | None:
        """The fault-API bearer token (from the value or the file)."""
        return read_secret(self.faults_token, self.faults_token_file, "APP_FAULTS_TOKEN")

    def demo_user_pairs(self) -> list[tuple[str, str]]:
        """(name, password) pairs of ``APP_DEMO_USERS``; empty unless it is set.

        Parsed here rather than by a validator, whose error would echo the raw value (the passwords).
        """
        return parse_demo_users(self.demo_users.get_secret_value()) if self.demo_users is not None else []

    def resolved_admin_token(self) -> str | None:
        """The bearer token of ``/audit`` and ``/orders/export``; None means those routes do not exist."""
        return read_secret(self.admin_token, self.admin_token_file, "APP_ADMIN_TOKEN")
