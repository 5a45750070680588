"""settings -> promtool unit tests for every generated alert.

Each alert kind of the catalogue brings its own test cases (see the `*_tests` builders); this module
puts them into files: one per service (the burn-rate alert's in its own `.slo.test.yml`, at a coarser
step) and one for the stack-wide alerts, all tested in one outage scenario. Expected annotations get
their runbook and dashboard links by the same pass and function as the rules (annotations.add_expected_links).
"""

from __future__ import annotations

from stack import conventions as c
from stack.builders.annotations import Linker, add_expected_links
from stack.builders.catalogue import STACK_ALERTS, panels, service_kinds
from stack.builders.rule_test_kit import Outage, promtool_file
from stack.models.rules import RuleTestFile, TestGroup
from stack.settings import Service, StackSettings


def build_rule_tests(settings: StackSettings) -> dict[str, RuleTestFile]:
    """Each file linked as soon as it is built, so the unlinked copy is dropped at once, not held to the end."""
    links = Linker(settings, panels(settings))
    files: dict[str, RuleTestFile] = {}
    for service in settings.services:
        files.update((name, add_expected_links(links, f)) for name, f in _service_files(settings, service).items())
    files[c.rules_test_file(c.PLATFORM_RULES_FILE)] = add_expected_links(links, _platform_tests(settings))
    return files


def _service_files(settings: StackSettings, service: Service) -> dict[str, RuleTestFile]:
    """The service's test file, and the `.slo.test.yml` of the kind that runs at its own step, if any."""
    rules_file, order = c.rules_file(service.name), c.rule_groups(service.name)
    shared: list[TestGroup] = []
    own: dict[str, RuleTestFile] = {}
    for kind in service_kinds(settings, service):
        cases = kind.cases(settings, service)
        if kind.test_step is None:
            shared += cases
        else:
            step = kind.test_step(settings, service)
            own[c.slo_test_file(rules_file)] = promtool_file(settings, rules_file, cases, order, step)
    return {c.rules_test_file(rules_file): promtool_file(settings, rules_file, shared, order), **own}


def _platform_tests(settings: StackSettings) -> RuleTestFile:
    outage = Outage(settings)
    checks = tuple(check for alert in STACK_ALERTS for check in alert.checks(settings, outage))
    group = TestGroup(interval=str(outage.time.step), input_series=(outage.up(),), alert_rule_test=checks)
    return promtool_file(settings, c.PLATFORM_RULES_FILE, [group])
