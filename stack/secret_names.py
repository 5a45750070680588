"""Where secrets live and what they are called: the files each service and Prometheus read, and the
compose/.env variable that carries each file's value. Pure naming, shared by the compose builder, the
secrets' creator and compose validation."""

from __future__ import annotations

import re

from stack import conventions as c
from stack.settings import Service as AppService
from stack.settings import StackSettings


def secret_variable(path: str) -> str:
    """The compose/.env variable that carries a secret file's value: OBSSTACK_ and the path in capitals."""
    return "OBSSTACK_" + re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_").upper()


def secret_name(path: str) -> str:
    return secret_variable(path).removeprefix("OBSSTACK_").lower().replace("_", "-")


def app_secret_files(service: AppService) -> tuple[str, ...]:
    """The files a service reads secrets from: the fault toggles' token, its /metrics token, its secret_files."""
    faults = (c.FAULTS_TOKEN_FILE,) if service.faults else ()
    metrics = (service.metrics_token_file,) if service.metrics_token_file else ()
    return tuple(dict.fromkeys((*faults, *metrics, *service.secret_files)))


def scrape_token_files(settings: StackSettings) -> tuple[str, ...]:
    """The bearer token files Prometheus scrapes with, one per service that protects /metrics."""
    return tuple(sorted({s.metrics_token_file for s in settings.services if s.metrics_token_file}))


def compose_secret_files(settings: StackSettings) -> tuple[str, ...]:
    """Every secret file a container of compose.yaml reads: the scrape tokens and the compose services' files."""
    apps = (path for s in settings.services if s.in_compose for path in app_secret_files(s))
    return tuple(dict.fromkeys((*scrape_token_files(settings), *apps)))
