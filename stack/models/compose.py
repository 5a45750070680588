"""compose.yaml (Compose specification, Docker Compose v2), restricted to the keys we set.

Published ports must be bound to 127.0.0.1: nothing of the stack is reachable from the network.
"""

from typing import Literal, Self

from pydantic import Field, field_serializer, field_validator, model_validator

from stack.models import ConfigModel


class Healthcheck(ConfigModel):
    test: tuple[str, ...] | None = None
    interval: str | None = None
    timeout: str | None = None
    retries: int | None = None
    start_period: str | None = None
    disable: bool | None = None

    @model_validator(mode="after")
    def _test_or_disable(self) -> Self:
        if (self.test is None) == (self.disable is None):
            raise ValueError("a healthcheck has a test or disable: true")
        return self


class DependsOn(ConfigModel):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"]


class Build(ConfigModel):
    context: str
    dockerfile: str


class TmpfsVolume(ConfigModel):
    """A named volume that the engine's local driver mounts as a tmpfs (driver_opts type/device tmpfs): in memory,
    removed by `down --volumes`, with a name of its own so a persistent volume of the same key is left alone.

    Not a tmpfs mount (`type: tmpfs`): compose passes only size and mode to the engine, the tmpfs belongs to
    root, and runc 1.1 (Debian 12's) then chmods it to the mode of the image directory it covers
    (libcontainer/rootfs_linux.go), so 0775 /prometheus stayed unwritable to nobody whatever mode we gave.
    The local driver's tmpfs has the kernel default 1777, which every image user can write."""

    name: str
    driver_opts: dict[str, str]


class ServiceSecret(ConfigModel):
    """A secret docker compose writes into the container before it starts, at `target`, with this mode.

    For an `environment` secret compose copies the value in through the engine's archive API
    (pkg/compose/secrets.go, injectFileReferences). Without uid/gid the file is root's; with them compose
    asks the engine to set owners (CopyUIDGID), which gives the file to the container's USER, or to the
    uid/gid given when the image has no USER (moby v28 daemon/archive_tarcopyoptions_unix.go)."""

    source: str
    target: str
    uid: str | None = None
    gid: str | None = None
    mode: int = Field(ge=0, le=0o777)

    @field_serializer("mode")
    def _octal(self, mode: int) -> str:
        return f"0{mode:o}"  # compose-go's FileMode reads a string in octal, as `docker compose config` prints it


class Service(ConfigModel):
    image: str | None = None
    build: Build | None = None
    profiles: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    user: str | None = None  # when the image runs as root: a store needs no privileges
    command: tuple[str, ...] | None = None
    environment: dict[str, str] | None = None
    ports: tuple[str, ...] | None = None
    volumes: tuple[str, ...] | None = None
    secrets: tuple[ServiceSecret, ...] | None = None
    extra_hosts: tuple[str, ...] | None = None
    depends_on: dict[str, DependsOn] | None = None
    healthcheck: Healthcheck | None = None
    restart: Literal["no", "always", "on-failure", "unless-stopped"] = "unless-stopped"

    @field_validator("ports")
    @classmethod
    def _loopback(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for port in value or ():
            if not port.startswith("127.0.0.1:"):
                raise ValueError(f"published ports must be bound to 127.0.0.1, got {port!r}")
        return value

    @model_validator(mode="after")
    def _image_or_build(self) -> Self:
        if (self.image is None) == (self.build is None):
            raise ValueError("a service needs exactly one of image or build")
        return self


class Volume(ConfigModel):
    """A named volume with the engine's defaults."""


class SecretSource(ConfigModel):
    """A top-level secret whose value is a variable of the project's environment (compose/.env).

    Not `file:`: outside swarm compose bind-mounts a file secret with the host file's owner and mode and
    ignores uid/gid/mode (pkg/compose/create.go, buildContainerSecretMounts), so a 0600 file of the host
    user stays unreadable to a container user."""

    environment: str


class ComposeFile(ConfigModel):
    name: str
    services: dict[str, Service]
    volumes: dict[str, Volume]
    secrets: dict[str, SecretSource] | None = None

    @model_validator(mode="after")
    def _dependencies_exist(self) -> Self:
        for name, service in self.services.items():
            for dependency in service.depends_on or {}:
                if dependency not in self.services:
                    raise ValueError(f"services.{name}.depends_on: unknown service {dependency!r}")
            for secret in service.secrets or ():
                if secret.source not in (self.secrets or {}):
                    raise ValueError(f"services.{name}.secrets: unknown secret {secret.source!r}")
        return self


class ComposeOverride(ConfigModel):
    """An override file merged over compose.yaml (`-f compose.yaml -f <override>`): here, volumes only."""

    volumes: dict[str, TmpfsVolume]
