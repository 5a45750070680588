"""The API server's checks that no OpenAPI schema carries (k8s.io/apimachinery/pkg/api/validation and
k8s.io/kubernetes/pkg/apis/core/validation): object names, label and annotation keys and values, the
annotations' total size, ConfigMap keys and the 1 MiB size limit."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from stack.target_settings import DNS1123_LABEL_RE, K8S_LABEL_VALUE_RE

DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
CONFIG_MAP_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
ANNOTATIONS_LIMIT = 256 * 1024  # TotalAnnotationSizeLimitB
CONFIG_MAP_LIMIT = 1024 * 1024  # MaxSecretSize, also the ConfigMap limit
LABEL_NAMED_KINDS = frozenset({"Namespace", "Service"})  # named by a DNS-1123 label, not a subdomain


def _dns_label(value: str) -> bool:
    return len(value) <= 63 and DNS1123_LABEL_RE.match(value) is not None


def _dns_subdomain(value: str) -> bool:
    return len(value) <= 253 and DNS1123_SUBDOMAIN_RE.match(value) is not None


def _qualified_name(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if key.count("/") > 1 or (key.count("/") == 1 and not _dns_subdomain(prefix)):
        return False
    return len(name) <= 63 and QUALIFIED_NAME_RE.match(name) is not None


def _name_problems(kind: str, metadata: Mapping[str, Any]) -> Iterator[str]:
    name, namespace = metadata.get("name"), metadata.get("namespace")
    label = kind in LABEL_NAMED_KINDS
    if not isinstance(name, str) or not (_dns_label(name) if label else _dns_subdomain(name)):
        rule = "an RFC 1123 label (at most 63" if label else "an RFC 1123 subdomain (at most 253"
        yield f"metadata.name: {name!r} is not {rule} lowercase letters, digits, '-' or '.')"
    if namespace is not None and not (isinstance(namespace, str) and _dns_label(namespace)):
        yield f"metadata.namespace: {namespace!r} is not an RFC 1123 label"


def _label_problems(metadata: Mapping[str, Any]) -> Iterator[str]:
    for key, value in (metadata.get("labels") or {}).items():
        if not _qualified_name(str(key)):
            yield f"metadata.labels: key {key!r} is not a qualified name ([prefix/]name, name at most 63 chars)"
        if not (isinstance(value, str) and len(value) <= 63 and K8S_LABEL_VALUE_RE.match(value)):
            yield f"metadata.labels.{key}: {value!r} is not a label value (at most 63 alphanumerics, '-', '_', '.')"
    annotations = metadata.get("annotations") or {}
    for key in annotations:
        if not _qualified_name(str(key).lower()):
            yield f"metadata.annotations: key {key!r} is not a qualified name"
    size = sum(len(str(k)) + len(str(v)) for k, v in annotations.items())
    if size > ANNOTATIONS_LIMIT:
        yield f"metadata.annotations: {size} bytes in total, the limit is {ANNOTATIONS_LIMIT}"


def _config_map_problems(document: Mapping[str, Any]) -> Iterator[str]:
    data, binary = document.get("data") or {}, document.get("binaryData") or {}
    for field, entries in (("data", data), ("binaryData", binary)):
        for key in entries:
            key = str(key)
            if len(key) > 253 or not CONFIG_MAP_KEY_RE.match(key) or key in {".", ".."} or key.startswith(".."):
                yield f"{field}: key {key!r} is not a ConfigMap key (alphanumerics, '-', '_' or '.')"
    size = sum(len(str(k)) + len(str(v).encode()) for k, v in (data | binary).items())
    if size > CONFIG_MAP_LIMIT:
        yield f"data: {size} bytes in total, a ConfigMap holds at most {CONFIG_MAP_LIMIT}"


def api_rule_errors(document: Mapping[str, Any]) -> list[str]:
    """What the API server's own validation (beyond the schema) rejects in one object."""
    metadata = document.get("metadata")
    if not isinstance(metadata, Mapping):
        return ["metadata: missing (every object needs metadata.name)"]
    kind = str(document.get("kind", ""))
    problems = [*_name_problems(kind, metadata), *_label_problems(metadata)]
    if kind == "ConfigMap" and document.get("apiVersion") == "v1":
        problems.extend(_config_map_problems(document))
    return problems
