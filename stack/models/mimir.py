"""The Grafana Mimir target's rule file: mimirtool's (and cortextool's) RuleNamespace (pkg/mimirtool/rules),
whose groups are Prometheus' rulefmt groups. Unknown keys are refused, as `cortextool rules lint` refuses them."""

from typing import ClassVar

from stack.models import ConfigModel
from stack.models.rules import RuleGroup


class RuleNamespace(ConfigModel):
    """One file of `mimirtool rules sync/load`: a namespace of the tenant's ruler and its groups."""

    GROUPS_AT: ClassVar[tuple[str, ...]] = ("groups",)  # where a document holds its rule groups (render)

    namespace: str
    groups: tuple[RuleGroup, ...]
