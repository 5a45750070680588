"""Issue 28's classes of bad input, one named case each: a clean refusal (`error: <field> in <source>: ...,
got <value>`, exit 2, one line, nothing written), never a traceback, a silent half-acceptance or a lost file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from stack.cli import INTERNAL_ERROR, app
from tests.support import assert_refused, generated_project, snapshot

VALID = """\
project: demo
services:
  - name: orders
    port: 8000
    labels: {team: checkout}
"""
IMAGE = VALID + "    image: acme/orders:1.2.0\n"
BUSINESS = (
    VALID + "    business:\n      metrics: [{name: pay_total, type: counter, title: Pay, labels: {o: [ok, bad]}}]\n"
)

# class -> case -> (stack.yaml, fragments the one error line must hold)
CLASSES: dict[str, dict[str, tuple[str, list[str]]]] = {
    "traceback_before": {
        "yaml_key_is_a_list": ("? [a, b]\n: 1\n" + VALID, ["stack.yaml:1", "a key at line 1 is a list", "a name"]),
        "yaml_key_is_a_map": (VALID + "    env: {? {a: 1} : x}\n", ["stack.yaml:6", "is a mapping"]),
        "yaml_key_is_a_number": (VALID + "    env: {1: x}\n", ["key 1 at line 6 is not text"]),
        "webhook_port_99999": (
            VALID + "alerting: {webhook_url: 'http://127.0.0.1:99999/alerts'}\n",
            ["alerting.webhook_url in", "port", "'http://127.0.0.1:99999/alerts'"],
        ),
        "webhook_broken_ipv6": (
            VALID + "alerting: {critical_webhook_url: 'http://[::1/alerts'}\n",
            ["alerting.critical_webhook_url in", "IPv6", "'http://[::1/alerts'"],
        ),
    },
    "trailing_newline": {
        "service_name": (VALID.replace("name: orders", 'name: "orders\\n"'), ["services[0].name in", "'orders\\n'"]),
        "project_name": (VALID.replace("project: demo", 'project: "demo\\n"'), ["project in", "'demo\\n'"]),
        "label_value": (
            VALID.replace("team: checkout", 'team: "checkout\\n"'),
            ["services[0].labels in", "label team"],
        ),
        "metrics_path": (VALID + '    metrics_path: "/metrics\\n"\n', ["services[0].metrics_path in", "'/metrics\\n'"]),
        "image_latest": (VALID + '    image: "acme/orders:latest\\n"\n', ["services[0].image in", "pinned tag"]),
        "alert_name": (
            BUSINESS + '      alerts: [{name: "PayBad\\n", metric: pay_total, failure: {o: bad}, above: 0.1}]\n',
            ["services[0].business.alerts[0].name in", "'PayBad\\n'"],
        ),
        "output_dir": (VALID + 'output: {alerts_dir: "alerts\\n"}\n', ["output.alerts_dir in", "'alerts\\n'"]),
    },
    "silently_broken_alerts": {
        "service_named_platform": (
            VALID.replace("name: orders", "name: platform"),
            ["services[0].name in", "'platform'", "generates for the whole stack"],
        ),
        "service_named_mimir_platform_namespace": (
            VALID.replace("name: orders", "name: obsstack-platform"),
            ["services[0].name in", "'obsstack-platform'"],
        ),
        "service_named_loadgen": (VALID.replace("name: orders", "name: loadgen"), ["services[0].name in", "'loadgen'"]),
        "label_shadows_status": (
            VALID.replace("team: checkout", 'status: "200"'),
            ["services[0].labels in", "'status' is a label the generated rules read", "status='200'"],
        ),
        "label_shadows_route": (VALID.replace("team: checkout", "handler: x"), ["services[0].labels in", "'handler'"]),
        "label_shadows_le": (VALID.replace("team: checkout", "le: x"), ["services[0].labels in", "'le'"]),
        "min_request_rate_inf": (
            VALID + "    error_rate: {min_request_rate: .inf}\n",
            ["services[0].error_rate.min_request_rate in", "finite", "got inf"],
        ),
        "bucket_nan": (
            VALID + "metrics: {latency_buckets: [0.1, .nan, 1]}\n",
            ["metrics.latency_buckets[1] in", "nan"],
        ),
        "slo_objective_nan": (VALID + "    slo: {objective: .nan}\n", ["services[0].slo.objective in", "finite"]),
        "twenty_digit_window": (
            VALID + "profiles: {production: {slo_window: 99999999999999999999d}}\n",
            ["profiles.production.slo_window in", "at most 3650d", "'99999999999999999999d'"],
        ),
        "mimir_ring_ports_past_65535": (
            VALID + "components: {mimir: {port: 65400}}\n",
            ["components.mimir.port in", "port + 202 = 65602", "got 65400"],
        ),
        "component_port_past_65535": (
            VALID + "components: {mimir: {port: 70000}}\n",
            ["components.mimir.port in", "65535", "70000"],
        ),
    },
    "coerced_types": {
        "string_off_for_boolean": (
            VALID + "kubernetes: {enabled: 'off'}\n",
            ["kubernetes.enabled in", "boolean", "'off'"],
        ),
        "string_no_for_boolean": (
            VALID + "    error_rate: {enabled: 'no'}\n",
            ["services[0].error_rate.enabled in", "not a string", "'no'"],
        ),
        "true_for_number": (VALID + "    slo: {objective: true}\n", ["services[0].slo.objective in", "not a boolean"]),
        "string_for_component_port": (
            VALID + "components: {grafana: {port: '9091'}}\n",
            ["components.grafana.port in", "whole number, not a string", "'9091'"],
        ),
        "string_for_service_port": (
            VALID.replace("port: 8000", "port: '8000'"),
            ["services[0].port in", "whole number, not a string", "'8000'"],
        ),
        "decimal_for_whole_number": (
            VALID + "    restarts: {max_restarts: 2.0}\n",
            ["services[0].restarts.max_restarts in", "not a decimal", "2.0"],
        ),
        "one_for_boolean": (VALID + "    absent_alert: 1\n", ["services[0].absent_alert in", "not a whole number"]),
    },
    "passed_through": {
        "env_template_markers": (IMAGE + "    env: {A: '{{ .x }}'}\n", ["services[0].env in", "template markers"]),
        "build_context_outside": (
            VALID + "    build: {context: ../elsewhere}\n",
            ["services[0].build.context in", "'../elsewhere'"],
        ),
        "dockerfile_outside": (
            VALID + "    build: {dockerfile: /etc/Dockerfile}\n",
            ["services[0].build.dockerfile in", "'/etc/Dockerfile'"],
        ),
        "tool_version_with_shell": (
            VALID + "kubernetes: {kubectl_version: '1.37.2; rm -rf ~'}\n",
            ["kubernetes.kubectl_version in", "version such as 1.2.3", "'1.37.2; rm -rf ~'"],
        ),
        "cortextool_version_with_shell": (
            VALID + "mimir: {cortextool_version: '$(id)'}\n",
            ["mimir.cortextool_version in", "'$(id)'"],
        ),
        "duplicate_business_metric": (
            BUSINESS.replace(
                "labels: {o: [ok, bad]}}]", "labels: {o: [ok, bad]}}, {name: pay_total, type: counter, title: P}]"
            ),
            ["services[0].business.metrics in", "'pay_total' is declared twice"],
        ),
        "image_LATEST": (VALID + "    image: acme/orders:LATEST\n", ["services[0].image in", "'acme/orders:LATEST'"]),
        "component_image_Latest": (
            VALID + "components: {prometheus: {image: 'prom/prometheus:Latest'}}\n",
            ["components.prometheus.image in", "not latest"],
        ),
    },
    "wrong_words": {
        "zero_scrape_interval_shows_value": (
            VALID + "profiles: {production: {scrape_interval: 0s}}\n",
            ["profiles.production in", "greater than 0s", "got 0s"],
        ),
        "output_dir_name_too_long": (
            VALID + "output: {alerts_dir: " + "a" * 300 + "}\n",
            ["output.alerts_dir in", "each name at most 255", "(302 characters)"],
        ),
        "huge_value_is_cut": (
            VALID.replace("name: orders", "name: " + "a" * 200_000),
            ["services[0].name in", "(200002 characters)"],
        ),
    },
}
CASES = {f"{group}-{name}": case for group, cases in CLASSES.items() for name, case in cases.items()}


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A project whose outputs were generated from a valid stack.yaml."""
    return generated_project(tmp_path, VALID)


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_class_of_bad_input_is_one_clean_refusal(case: str, generated: Path) -> None:
    """Each named bad input of issue 28 gives exit 2 and one line naming field, file and value; nothing written."""
    text, expected = CASES[case]
    assert_refused(generated, text, expected)


def test_huge_value_is_not_echoed_whole(generated: Path) -> None:
    """A 200,000-character value is cut in the error line, which stays short."""
    assert_refused(generated, VALID.replace("team: checkout", "team: " + "x" * 200_000), ["services[0].labels in"])
    result = CliRunner().invoke(app, ["generate", "--config", str(generated / "stack.yaml")])
    assert len(result.stderr) < 600


def invoke(project: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, [*args, "--config", str(project / "stack.yaml")], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, [line for line in result.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("OBSSTACK_SERVICES", "[{broken", ["services in OBSSTACK_SERVICES", "not valid JSON", "'[{broken'"]),
        ("OBSSTACK_KUBERNETES", "{oops", ["kubernetes in OBSSTACK_KUBERNETES", "not valid JSON"]),
        (
            "OBSSTACK_COMPONENTS__GRAFANA__PORT",
            "99999",
            ["components.grafana.port in OBSSTACK_COMPONENTS__GRAFANA__PORT", "99999"],
        ),
        ("OBSSTACK_KUBERNETES__ENABLED", "maybe", ["kubernetes.enabled in OBSSTACK_KUBERNETES__ENABLED", "'maybe'"]),
        ("OBSSTACK_PROJECT", "Demo!", ["project in OBSSTACK_PROJECT", "'Demo!'"]),
    ],
)
def test_environment_errors_name_the_variable(generated: Path, variable: str, value: str, expected: list[str]) -> None:
    """A bad OBSSTACK_* value (invalid JSON included) is one line naming the variable, not stack.yaml; exit 2."""
    before = snapshot(generated)
    code, lines = invoke(generated, "generate", env={variable: value})
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])
    assert snapshot(generated) == before


def test_environment_keeps_its_documented_parsing(generated: Path) -> None:
    """OBSSTACK_* values are text that pydantic-settings parses: `true` and `3001` are accepted there."""
    code, lines = invoke(
        generated,
        "generate",
        env={"OBSSTACK_KUBERNETES__ENABLED": "true", "OBSSTACK_COMPONENTS__GRAFANA__PORT": "3001"},
    )
    assert code == 0, lines
    assert (generated / "kubernetes").is_dir()


def test_profile_flag_errors_name_the_flag(generated: Path) -> None:
    """A bad --profile is reported as coming from --profile, not from stack.yaml."""
    code, lines = invoke(generated, "generate", "--profile", "turbo")
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith("error: profile in --profile: ")
    assert "'turbo'" in lines[0]


def test_env_values_with_dollar_are_escaped_for_compose(generated: Path) -> None:
    """`$(...)` and `${HOME}` in a compose service's env reach the container as written: `$` is written `$$`."""
    (generated / "stack.yaml").write_text(IMAGE + "    env: {CMD: '$(id) ${HOME} $$'}\n", encoding="utf-8")
    code, lines = invoke(generated, "generate")
    assert code == 0, lines
    compose = yaml.safe_load((generated / "compose" / "compose.yaml").read_text(encoding="utf-8"))
    assert compose["services"]["orders"]["environment"]["CMD"] == "$$(id) $${HOME} $$$$"


@pytest.mark.parametrize("content", [None, b"\xff\xfe not utf-8"])
def test_unreadable_config_is_one_line(tmp_path: Path, content: bytes | None) -> None:
    """A stack.yaml that cannot be read (a directory, bytes that are not UTF-8) is one line and exit 2."""
    config = tmp_path / "stack.yaml"
    if content is None:
        config.mkdir()
    else:
        config.write_bytes(content)
    code, lines = invoke(tmp_path, "generate")
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {config}: cannot read"), lines


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "0"], "--port in the command line: must be a port of 1 to 65535, got 0"),
        (["--port", "70000"], "--port in the command line: must be a port of 1 to 65535, got 70000"),
        (["--port", "http"], "--port in the command line:"),
        (["--service", "api\n"], "--service in the command line: must be lowercase"),
        (["--service", "platform"], "--service in the command line: 'platform' is the name of a file"),
        (["--grpc-port", "0", "--probe-otlp"], "--grpc-port in the command line:"),
    ],
)
def test_init_bad_flags_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    """`obsstack init` with a bad flag value: one line (not click's usage box), exit 2, nothing written."""
    result = CliRunner().invoke(app, ["init", str(tmp_path / "new"), *args])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {expected}"), lines
    assert not (tmp_path / "new").exists()


def test_internal_error_is_one_line_and_exit_70(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug (an exception that is not a StackError) is one line pointing at --debug, exit 70; --debug raises it."""

    def broken(settings: object, **options: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("stack.render.render_all", broken)
    code, lines = invoke(generated, "generate")
    assert code == INTERNAL_ERROR
    assert len(lines) == 1, lines
    assert "internal error (RuntimeError: 'a bug')" in lines[0]
    assert "--debug" in lines[0]
    result = CliRunner().invoke(app, ["--debug", "generate", "--config", str(generated / "stack.yaml")])
    assert isinstance(result.exception, RuntimeError)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bogus", "generate"], "error: the command line: No such option: --bogus"),
        (["bogus"], "error: the command line: No such command 'bogus'"),
        (["generate", "--config"], "error: the command line: Option '--config' requires an argument"),
        (["generate", "--target", "helm"], "error: --target in the command line: unknown target"),
    ],
)
def test_bad_command_lines_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    """A bad command line (unknown option or command, a missing value) is one line, not click's usage box; exit 2."""
    (tmp_path / "stack.yaml").write_text(VALID, encoding="utf-8")
    config = ["--config", str(tmp_path / "stack.yaml")] if "--target" in args else []
    result = CliRunner().invoke(app, [*args, *config])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected), lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.yaml"]


@pytest.mark.parametrize("where", ["a-file", "a-file/below", "gitignore-is-a-directory"])
def test_init_where_it_cannot_write_is_one_line(tmp_path: Path, where: str) -> None:
    """`obsstack init` into a file, below a file, or beside a .gitignore it cannot read: one line, exit 2."""
    (tmp_path / "a-file").write_text("mine\n", encoding="utf-8")
    (tmp_path / "gitignore-is-a-directory" / ".gitignore").mkdir(parents=True)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, ["init", str(tmp_path / where)])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {tmp_path}/"), lines
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "gitignore-is-a-directory" / "stack.yaml").exists()


@pytest.mark.parametrize(
    "url", ["http://[::1/metrics", "http://127.0.0.1:99999/metrics", "http://a b/metrics", "ftp://x/m"]
)
def test_init_bad_probe_url_is_one_line(tmp_path: Path, url: str) -> None:
    """`obsstack init --probe` with a URL that does not parse: one line naming --probe and the URL, exit 2."""
    result = CliRunner().invoke(app, ["init", str(tmp_path), "--probe", url])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: --probe in the command line: "), lines
    assert repr(url) in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_source_is_where_the_bad_value_came_from(generated: Path) -> None:
    """With OBSSTACK_COMPONENTS__GRAFANA__PORT set, a bad grafana image in stack.yaml is still the file's."""
    config = generated / "stack.yaml"
    config.write_text(VALID + "components: {grafana: {image: 'grafana/grafana:latest'}}\n", encoding="utf-8")
    code, lines = invoke(generated, "generate", env={"OBSSTACK_COMPONENTS__GRAFANA__PORT": "3001"})
    assert code == 2
    assert lines == [lines[0]]
    assert lines[0].startswith(f"error: components.grafana.image in {config}: "), lines
