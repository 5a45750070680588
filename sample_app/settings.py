"""The demo's settings: server, database, downstream, admin, seeds (``APP_*``), composed with the
instrumentation's own settings (``obs``: ``OBS_*`` / ``OTEL_*``, read by `obsstack_fastapi.ObsSettings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from obsstack_fastapi import ObsSettings, read_secret

DEMO_SERVICE_NAME = "orders"  # when neither OTEL_SERVICE_NAME nor OBS_SERVICE_NAME names the service


def parse_demo_users(value: str) -> list[tuple[str, str]]:
    """``"alice:pw1,bob:pw2"`` -> pairs; an error names the entry's position, never its password."""
    pairs = []
    for index, item in enumerate(part.strip() for part in value.split(",") if part.strip()):
        name, sep, password = item.partition(":")
        if not sep or not name.strip() or not password:
            raise ValueError(f"APP_DEMO_USERS entry {index + 1}: expected name:password")
        pairs.append((name.strip(), password))
    return pairs


class AppSettings(BaseSettings):
    """One settings root for the demo; env ``APP_*`` plus ``DATABASE_URL``; ``obs`` reads its own names."""

    model_config = SettingsConfigDict(env_prefix="APP_", extra="forbid", frozen=True, populate_by_name=True)

    obs: ObsSettings = Field(default_factory=ObsSettings)
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
    payments_seed: int | None = None
    admin_token: SecretStr | None = None
    admin_token_file: Path | None = None
    demo_users: SecretStr | None = None

    @property
    def service_name(self) -> str:
        """``OTEL_SERVICE_NAME`` / ``OBS_SERVICE_NAME`` when set, else the demo's own name."""
        return self.obs.service_name or DEMO_SERVICE_NAME

    @property
    def db_capacity(self) -> int:
        """pool_size + max_overflow."""
        return self.db_pool_size + self.db_max_overflow

    def demo_user_pairs(self) -> list[tuple[str, str]]:
        """(name, password) pairs of ``APP_DEMO_USERS``; empty unless it is set.

        Parsed here rather than by a validator, whose error would echo the raw value (the passwords).
        """
        return parse_demo_users(self.demo_users.get_secret_value()) if self.demo_users is not None else []

    def resolved_admin_token(self) -> str | None:
        """The bearer token of ``/audit`` and ``/orders/export``; None means those routes do not exist."""
        return read_secret(self.admin_token, self.admin_token_file, "APP_ADMIN_TOKEN")
