"""Kubernetes objects checked against the pinned schemas, the way the API server checks them.

Custom resources against the `openAPIV3Schema` of the served CRD version (from the operators' modules), core
kinds against Kubernetes' own OpenAPI v3 documents (from the `k8s.io/kubernetes` module), the metadata of
both against `ObjectMeta`. The schemas are made strict the way a structural schema behaves under
`kubectl apply --server-side --validate=strict`: a field the schema does not declare is an error (unless
`x-kubernetes-preserve-unknown-fields`), `x-kubernetes-int-or-string` takes either, `nullable` allows null,
list-type `set` and `map` reject duplicates. Go's regular expressions are translated for Python. Not checked:
CEL rules (`x-kubernetes-validations`) and `format`s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from jsonschema import Draft4Validator, ValidationError
from jsonschema.validators import extend

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
COMBINATORS = ("allOf", "anyOf", "oneOf")
DROPPED = frozenset({"description", "default", "example", "x-kubernetes-validations"})
GO_FLAGS_RE = re.compile(r"\(\?([imsU]+)\)")

Node = dict[str, Any]


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster


class KubeLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """PyYAML reads a bare `=` as YAML 1.1's value tag; Kubernetes' YAML (CRDs, matchType: =) means the string."""


KubeLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def load_documents(text: str) -> list[dict[str, Any]]:
    """The non-empty documents of a YAML stream, as kubectl reads them."""
    return [doc for doc in yaml.load_all(text, Loader=KubeLoader) if doc]


def go_regex(pattern: str) -> str:
    """A Go (RE2) pattern in Python's syntax: a flag group `(?i)` holds to the end of its group in Go."""
    while match := GO_FLAGS_RE.search(pattern):
        start, end = match.span()
        depth, i = 0, end
        while i < len(pattern) and not (pattern[i] == ")" and depth == 0):
            if pattern[i] == "\\":
                i += 1
            elif pattern[i] == "[":  # a class: its parentheses are characters
                close = pattern.find("]", i + 2)
                i = close if close >= 0 else i
            elif pattern[i] == "(":
                depth += 1
            elif pattern[i] == ")":
                depth -= 1
            i += 1
        pattern = f"{pattern[:start]}(?{match.group(1)}:{pattern[end:i]}){pattern[i:]}"
    return pattern


def _strict_type(node: Node) -> None:
    if node.pop("x-kubernetes-int-or-string", False):
        node["type"] = ["integer", "string"]
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [*([node["type"]] if isinstance(node["type"], str) else node["type"]), "null"]
    if node.get("x-kubernetes-list-type") == "set":
        node["uniqueItems"] = True
    if "pattern" in node:
        node["pattern"] = go_regex(node["pattern"])


def strict(node: Node, *, closed_empty: bool, in_combinator: bool = False) -> Node:
    """A copy of an OpenAPI schema node that rejects fields it does not declare (see the module doc). Inside
    allOf/anyOf/oneOf/not (value validations in a structural schema) nothing is closed."""
    out = {key: value for key, value in node.items() if key not in DROPPED}
    _strict_type(out)
    if out.get("x-kubernetes-embedded-resource"):
        out["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                             "metadata": {"type": "object"}} | out.get("properties", {})  # fmt: skip
    inner = {"closed_empty": closed_empty, "in_combinator": in_combinator}
    if "properties" in out:
        out["properties"] = {k: strict(v, **inner) for k, v in out["properties"].items()}
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = strict(out["additionalProperties"], **inner)
    if isinstance(out.get("items"), dict):
        out["items"] = strict(out["items"], **inner)
    for key in COMBINATORS:
        if key in out:
            out[key] = [strict(sub, closed_empty=closed_empty, in_combinator=True) for sub in out[key]]
    if "not" in out:
        out["not"] = strict(out["not"], closed_empty=closed_empty, in_combinator=True)
    opened = out.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in out
    declares = "properties" in out or (closed_empty and out.get("type") == "object")
    if declares and not opened and not in_combinator:
        out["additionalProperties"] = False
    return out


def _unique_map_keys(validator: Any, keys: list[str], instance: Any, schema: Node) -> Iterator[ValidationError]:
    if not isinstance(instance, list):
        return
    seen: set[str] = set()
    for item in instance:
        key = json.dumps([item.get(k) for k in keys] if isinstance(item, dict) else item)
        if key in seen:
            yield ValidationError(f"duplicate entry with {'/'.join(keys)} = {key[1:-1]} (a list-type map)")
        seen.add(key)


StrictValidator = extend(Draft4Validator, {"x-kubernetes-list-map-keys": _unique_map_keys})  # type: ignore[no-untyped-call]


def _path(error: ValidationError) -> str:
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _explain(error: ValidationError) -> Iterator[str]:
    """One line per problem; an undeclared field names itself and what the schema declares there."""
    where = _path(error)
    if error.validator == "additionalProperties" and error.validator_value is False:
        schema, instance = cast("Node", error.schema), cast("Node", error.instance)
        known = sorted(schema.get("properties", {}))
        for name in sorted(set(instance) - set(known)):
            declared = ", ".join(known) if known else "nothing (no fields)"
            yield f"{where}.{name}: unknown field (the schema declares {declared})".lstrip(".")
        return
    if error.context:  # anyOf/oneOf: the branch that got furthest says the most
        best = max(error.context, key=lambda e: len(e.absolute_path))
        yield f"{where or '(the object)'}: {best.message}"
        return
    yield f"{where or '(the object)'}: {error.message}"


@dataclass
class Schemas:
    """Validators by (apiVersion, kind): the CRDs' served versions, and core kinds found on demand."""

    openapi_dir: Path
    crds: dict[tuple[str, str], Node] = field(default_factory=dict)
    _documents: dict[Path, Node] = field(default_factory=dict)

    def document(self, name: str) -> Node:
        """One of Kubernetes' OpenAPI v3 documents with every schema made strict (cached)."""
        path = self.openapi_dir / name
        if path not in self._documents:
            schemas = json.loads(path.read_text(encoding="utf-8"))["components"]["schemas"]
            strict_schemas = {key: strict(value, closed_empty=False) for key, value in schemas.items()}
            self._documents[path] = {"components": {"schemas": strict_schemas}}
        return self._documents[path]

    def add_crds(self, directory: Path) -> None:
        """Every served version of every CRD in `directory`."""
        for path in sorted(directory.glob("*.yaml")):
            crd = yaml.load(path.read_text(encoding="utf-8"), Loader=KubeLoader)  # noqa: S506 (a SafeLoader)
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    schema = strict(version["schema"]["openAPIV3Schema"], closed_empty=True)
                    schema["properties"]["metadata"] = {"$ref": f"#/components/schemas/{OBJECT_META}"}
                    self.crds[(f"{group}/{version['name']}", kind)] = schema

    def _core(self, api_version: str, kind: str) -> Node | None:
        group, _, version = api_version.rpartition("/")
        name = f"apis__{group}__{version}_openapi.json" if group else f"api__{version}_openapi.json"
        if not (self.openapi_dir / name).is_file():
            return None
        document = self.document(name)
        for key, schema in document["components"]["schemas"].items():
            gvks = schema.get("x-kubernetes-group-version-kind", [])
            if {"group": group, "version": version, "kind": kind} in gvks:
                return {"$ref": f"#/components/schemas/{key}"} | document
        return None

    def schema(self, api_version: str, kind: str) -> Node | None:
        if crd := self.crds.get((api_version, kind)):
            return crd | self.document("api__v1_openapi.json")
        return self._core(api_version, kind)

    def errors(self, document: Mapping[str, Any]) -> list[str]:
        """What the API server would reject in one object; empty when it is valid."""
        api_version, kind = str(document.get("apiVersion", "")), str(document.get("kind", ""))
        schema = self.schema(api_version, kind)
        if schema is None:
            return [f"no schema for apiVersion {api_version!r} kind {kind!r}: not a core kind nor a served CRD"]
        found = StrictValidator(schema).iter_errors(document)
        return [line for error in sorted(found, key=_path) for line in _explain(error)]
