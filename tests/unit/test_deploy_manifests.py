"""The Procfile, app.json, render.yaml and the compose file describe the same service."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from honcho.environ import parse_procfile

from service.config import PLATFORM_VARIABLES, VARIABLES

ROOT = Path(__file__).resolve().parents[2]
KNOWN = set(VARIABLES) | set(PLATFORM_VARIABLES)


def procfile() -> dict[str, str]:
    return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)


def test_the_procfile_names_release_web_and_worker_as_the_contract_says() -> None:
    assert procfile() == {
        "release": "relay db upgrade",
        "web": 'gunicorn -c deploy/gunicorn.conf.py "service.app:create_app()"',
        "worker": "relay worker",
    }


def test_config_reads_exactly_the_documented_variables() -> None:
    source = (ROOT / "service" / "config.py").read_text()
    read = set(re.findall(r'(?:env\.\w+\(|_\w+\(env,)\s*"([A-Z_]+)"', source))
    assert read == set(VARIABLES)


def test_readme_documents_every_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in sorted(KNOWN) if f"`{name}`" not in readme]
    assert missing == []


def test_app_json_runs_the_procfile_processes_with_known_variables() -> None:
    manifest = json.loads((ROOT / "app.json").read_text())
    assert set(manifest["formation"]) == set(procfile()) - {"release"}
    assert set(manifest["env"]) <= KNOWN
    assert {"HUBSPOT_ACCESS_TOKEN", "SHOPIFY_WEBHOOK_SECRETS", "RELAY_API_KEYS"} <= set(
        manifest["env"]
    )
    # Heroku provides DATABASE_URL from the add-on.
    assert any(addon["plan"].startswith("heroku-postgresql") for addon in manifest["addons"])


def test_render_yaml_runs_the_procfile_commands_with_known_variables() -> None:
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    services = {service["name"]: service for service in blueprint["services"]}
    processes = procfile()
    assert services["web"]["startCommand"] == processes["web"]
    assert services["web"]["preDeployCommand"] == processes["release"]
    assert services["worker"]["startCommand"] == processes["worker"]
    group = {var["key"] for var in blueprint["envVarGroups"][0]["envVars"]}
    names = group | {var["key"] for s in services.values() for var in s["envVars"] if "key" in var}
    assert names <= KNOWN
    assert "DATABASE_URL" in names


def test_the_compose_file_runs_the_procfile_commands_with_known_variables() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    processes = procfile()
    for name in ("release", "web", "worker"):
        command = services[name]["command"]
        assert (
            " ".join(c if " " not in c and "(" not in c else f'"{c}"' for c in command)
            == processes[name]
        )
        assert set(services[name]["environment"]) <= KNOWN
    assert "db" in services
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgresql://")


def test_the_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "USER relay" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    final_stage = dockerfile.rsplit("FROM ", 1)[1]
    assert "gcc" not in final_stage and "build-essential" not in final_stage
