"""The sample app's settings: the observability settings plus server, database, downstream and faults."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator

from sample_app.observability.settings import ObservabilitySettings, read_secret


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
