"""deploy/compose.yaml: valid against the Compose Specification, secrets from the environment, settings we read.

No Docker engine runs here, so the file is checked the way `docker compose config` would start: YAML with merge
keys, ``${VAR}``/``${VAR:-default}``/``${VAR:?message}`` interpolation, then the Compose Specification's JSON
schema (tests/data/compose-spec/, see its README for provenance). Every BOKJI_* value it passes to a web app or an
action server must be a field of that process's settings and parse; Rasa's must be read by its endpoints file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from actions.settings import ActionServerSettings
from bokji.proxy_config import COMPOSE_LAYOUT, compose_config
from channels.settings import AppSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a literal $.
VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
SECRETS = {
    "POSTGRES_PASSWORD", "REDIS_PASSWORD", "WEAVIATE_API_KEY", "BOKJI_RASA_TOKEN", "BOKJI_ACTIONS_TOKEN",
    "BOKJI_CONSOLE_SECRET_KEY", "BOKJI_PRIVACY_ID_KEY", "BOKJI_METRICS_TOKEN",
}  # fmt: skip


class MissingVariable(ValueError):
    """A ``${VAR:?message}`` whose variable is not set."""


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` with every variable substituted as Compose does; raises on a required one that is unset."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in (":?", "?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        if op in (":-", "-") and unset:
            return arg
        return current or ""

    return VARIABLE.sub(substitute, value)


def load(env: dict[str, str]) -> dict[str, Any]:
    return dict(interpolate(yaml.safe_load(COMPOSE.read_text()), env))


@pytest.fixture(scope="module")
def secrets_env() -> dict[str, str]:
    return {name: f"secret-{name.lower()}-0123456789abcdef" for name in SECRETS}


@pytest.fixture(scope="module")
def compose(secrets_env: dict[str, str]) -> dict[str, Any]:
    return load(secrets_env)


def services_of(compose: dict[str, Any], command: str) -> dict[str, dict[str, Any]]:
    """The services whose command runs ``python -m <command>`` (or ``bokji``/``rasa``)."""
    return {name: s for name, s in compose["services"].items() if command in " ".join(map(str, s.get("command", [])))}


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft201909Validator(schema).iter_errors(compose)]
    assert errors == []


def test_the_schema_refuses_a_misspelled_key(compose: dict[str, Any]) -> None:
    """The check above can fail: a typo in a resource limit is caught."""
    broken = json.loads(json.dumps(compose))
    broken["services"]["web-1"]["deploy"]["resources"]["limits"]["memroy"] = "1g"
    schema = json.loads(SCHEMA.read_text())
    assert not jsonschema.Draft201909Validator(schema).is_valid(broken)


def test_every_secret_must_come_from_the_environment(secrets_env: dict[str, str]) -> None:
    for name in sorted(SECRETS):
        with pytest.raises(MissingVariable, match=name):
            load({k: v for k, v in secrets_env.items() if k != name})
    text = COMPOSE.read_text()
    assert "secret-" not in text and "password:" not in text.lower().replace("_password:", "")


def test_no_variable_is_left_unresolved(compose: dict[str, Any]) -> None:
    assert "${" not in json.dumps(compose)


def _field_exists(model: type[BaseModel], path: list[str]) -> bool:
    field = model.model_fields.get(path[0])
    if field is None:
        return False
    if len(path) == 1:
        return True
    nested = field.annotation
    return isinstance(nested, type) and issubclass(nested, BaseModel) and _field_exists(nested, path[1:])


def _bokji_env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in service.get("environment", {}).items() if k.startswith("BOKJI_")}


@pytest.mark.parametrize(
    ("command", "settings_class"), [("channels", AppSettings), ("actions", ActionServerSettings), ("ingest", AppSettings)]
)
def test_every_value_passed_to_our_processes_is_a_setting_that_parses(
    compose: dict[str, Any], command: str, settings_class: type[BaseModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = services_of(compose, command)
    assert services, f"no service runs {command}"
    for name, service in services.items():
        env = _bokji_env(service)
        unknown = [key for key in env if not _field_exists(settings_class, key.removeprefix("BOKJI_").lower().split("__"))]
        assert unknown == [], f"{name} passes variables {settings_class.__name__} does not read"
        for key in [k for k in os.environ if k.startswith("BOKJI_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = settings_class()  # raises when a value does not parse
        assert settings.knowledge.store.backend == "weaviate"  # type: ignore[attr-defined]
        assert settings.knowledge.llm.backend == "ollama"  # type: ignore[attr-defined]


def test_rasa_gets_exactly_what_its_endpoints_file_reads(compose: dict[str, Any]) -> None:
    for name, service in services_of(compose, "rasa run").items():
        command = " ".join(service["command"])
        endpoints = ROOT / "bot" / re.search(r"--endpoints (\S+)", command).group(1)  # type: ignore[union-attr]
        assert endpoints.exists(), f"{name} uses {endpoints.name}, which bot/ does not have"
        read = set(re.findall(r"\$\{(BOKJI_[A-Z0-9_]+)\}", endpoints.read_text())) | {"BOKJI_RASA_TOKEN"}  # --auth-token
        read |= {"BOKJI_LOG_FORMAT"}  # bot/logging.yml's formatter (bokji.logging_setup.formatter_from_env)
        assert set(_bokji_env(service)) == read, name
        logging_config = re.search(r"--logging-config-file (\S+)", command)
        assert logging_config and (ROOT / "bot" / logging_config.group(1)).exists(), f"{name} logs in Rasa's own format"


def test_rasa_and_the_action_servers_are_only_on_the_private_network(compose: dict[str, Any]) -> None:
    assert compose["networks"]["private"]["internal"] is True
    for name, service in {**services_of(compose, "rasa run"), **services_of(compose, "actions")}.items():
        assert service["networks"] == ["private"], name
        assert "ports" not in service, name
    published = [name for name, service in compose["services"].items() if "ports" in service]
    assert published == ["nginx"]


def test_long_running_services_have_health_checks_and_resource_limits(compose: dict[str, Any]) -> None:
    one_off = {"ollama-pull", "ingest"}
    for name, service in compose["services"].items():
        if name in one_off:
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        limits = service["deploy"]["resources"]["limits"]
        assert limits.get("memory") and limits.get("cpus"), f"{name} has no resource limits"


def test_weaviate_tokenizes_korean_and_ollama_serves_both_models(compose: dict[str, Any]) -> None:
    weaviate = compose["services"]["weaviate"]["environment"]
    assert weaviate["ENABLE_TOKENIZER_KAGOME_KR"] == "true"
    assert "REPLICATION_MINIMUM_FACTOR" in weaviate
    pulled = compose["services"]["ollama-pull"]
    assert "bge-m3" in " ".join(pulled["entrypoint"]) and pulled["environment"]["CHAT_MODEL"]
    gpu = compose["services"]["ollama"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]


def test_nginx_config_mounted_by_compose_is_the_rendered_template(compose: dict[str, Any]) -> None:
    assert (ROOT / "deploy" / "nginx.conf").read_text() == compose_config(), "run: python -m bokji.proxy_config"
    web = services_of(compose, "channels")
    assert sorted(f"{name}:8000" for name in web) == sorted(COMPOSE_LAYOUT.upstreams)
    conf = compose_config()
    assert "proxy_buffering off" in conf.split("location /api/")[1].split("}")[0], "the widget's streams are unbuffered"
    for shared in ("location /kakao/", "location /console"):  # Kakao state is in the database: any replica serves it
        assert "proxy_pass http://bokji_web;" in conf.split(shared)[1].split("}")[0]
    web_servers = conf.split("upstream bokji_web")[1].split("}")[0]
    assert "server web-1:8000 " in web_servers and "server web-2:8000 " in web_servers and "backup" not in web_servers
    assert "bokji_pinned" not in conf, "no location is pinned to one web app"
    assert "proxy_read_timeout 30s" in conf.split("location /kakao/")[1].split("}")[0], "Kakao's 5 s rule, not 120 s"
    assert "proxy_read_timeout 120s" in conf.split("location /console")[1].split("}")[0], "the console's live streams"
    for cell_number, cell in enumerate(COMPOSE_LAYOUT.cells, start=1):
        environment = compose["services"][f"web-{cell_number}"]["environment"]
        assert environment["BOKJI_RASA_URL"] == f"http://nginx:{cell.rasa_listen}"
        assert environment["BOKJI_ACTIONS_URL"] == f"http://nginx:{cell.actions_listen}"
        rasa = compose["services"][f"rasa-{cell_number}"]["environment"]
        assert rasa["BOKJI_ACTION_URL"] == f"http://nginx:{cell.actions_listen}/webhook"
        assert f"listen {cell.rasa_listen};" in conf and f"server {cell.rasa} " in conf


def test_images_are_the_dockerfile_targets(compose: dict[str, Any]) -> None:
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", (ROOT / "Dockerfile").read_text(), re.M))
    for name, service in compose["services"].items():
        if "build" in service:
            assert service["build"]["target"] in stages, name
            assert (COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]).exists(), name
