"""The local "container": an app started as a process from its Dockerfile command, with its
rendered env and Secret values, and its throwaway PostgreSQL."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops.config import RepoConfig
from gitops.discovery import Overlay
from gitops.errors import ConfigError
from gitops.model import image_name
from gitops.probe.spec import ProbeSetupError

# --- the local "container" ----------------------------------------------------------------


@dataclass(frozen=True)
class AppSource:
    name: str
    directory: Path
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]


def find_app_source(repo: Path, image: str) -> AppSource | None:
    """The ``apps/<name>/`` whose name is the image's repository basename."""
    name = image_name(image).rsplit("/", 1)[-1]
    directory = repo / "apps" / name
    dockerfile = directory / "Dockerfile"
    if not dockerfile.is_file():
        return None
    entrypoint, cmd = parse_dockerfile_command(dockerfile.read_text(encoding="utf-8"))
    return AppSource(name, directory, entrypoint, cmd)


def parse_dockerfile_command(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The last ENTRYPOINT and CMD in exec (JSON) form; shell form is refused."""
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    joined = re.sub(r"\\\n", " ", text)
    for line in joined.splitlines():
        match = re.match(r"^\s*(ENTRYPOINT|CMD)\s+(.*)$", line, re.IGNORECASE)
        if not match:
            continue
        try:
            value = json.loads(match.group(2))
        except json.JSONDecodeError as exc:
            raise ProbeSetupError(
                f'Dockerfile {match.group(1)} must use the exec form ["..."]: {line.strip()}'
            ) from exc
        if match.group(1).upper() == "ENTRYPOINT":
            entrypoint, cmd = tuple(map(str, value)), ()  # a new ENTRYPOINT resets CMD
        else:
            cmd = tuple(map(str, value))
    return entrypoint, cmd


def container_argv(
    container: dict[str, Any], source: AppSource
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(entrypoint, args) with Kubernetes semantics: ``command`` replaces ENTRYPOINT (and drops
    CMD), ``args`` replaces CMD. ``python``/``python3`` becomes this interpreter, where the apps
    are installed."""
    command = container.get("command")
    args = container.get("args")
    if command:
        entry = [str(c) for c in command]
        rest = [str(a) for a in args or []]
    else:
        entry = list(source.entrypoint)
        rest = [str(a) for a in args] if args is not None else list(source.cmd)
    if not entry and rest:
        entry, rest = rest, []
    if not entry:
        raise ProbeSetupError(f"apps/{source.name}/Dockerfile has no ENTRYPOINT or CMD")
    if Path(entry[0]).name in ("python", "python3"):
        entry[0] = sys.executable
    return tuple(entry), tuple(rest)


_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def container_env(
    container: dict[str, Any], secrets: dict[str, dict[str, str]], where: str
) -> dict[str, str]:
    """The container's ``env`` as kubelet builds it: ``$(VAR)`` refers to earlier variables,
    ``secretKeyRef`` reads the local Secret source, optional refs may be absent."""
    env: dict[str, str] = {}
    for entry in container.get("env") or []:
        name = str(entry.get("name"))
        if "value" in entry:
            env[name] = _VAR_REF.sub(lambda m: env.get(m.group(1), m.group(0)), str(entry["value"]))
            continue
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            value = secrets.get(str(ref.get("name")), {}).get(str(ref.get("key")))
            if value is None:
                if ref.get("optional"):
                    continue
                raise ProbeSetupError(
                    f"{where}: env {name} needs key {ref.get('key')!r} of Secret "
                    f"{ref.get('name')!r}: give it with --secrets FILE (YAML: "
                    "<secret>: {<key>: <value>}) or a postgres section in gitops.yaml probe"
                )
            env[name] = value
            continue
        if entry.get("valueFrom"):
            raise ProbeSetupError(
                f"{where}: env {name} uses {sorted(entry['valueFrom'])[0]}, which gitops probe "
                "cannot provide outside a cluster"
            )
    return env


@dataclass(frozen=True)
class PostgresPlan:
    secret: str
    keys: dict[str, str]  # host/port/database/user/password -> Secret key
    setup: tuple[tuple[str, ...], ...]  # container args run (with the entrypoint) before start


def postgres_plan(config: RepoConfig, service: str) -> PostgresPlan | None:
    probe = config.probe.get("services") if isinstance(config.probe, dict) else None
    section = (probe or {}).get(service) or {}
    raw = section.get("postgres")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("secret") or not isinstance(raw.get("keys"), dict):
        raise ConfigError(
            f"gitops.yaml: probe.services.{service}.postgres needs `secret` and `keys`"
        )
    unknown = set(raw["keys"]) - {"host", "port", "database", "user", "password"}
    if unknown:
        raise ConfigError(
            f"gitops.yaml: probe.services.{service}.postgres.keys: unknown {sorted(unknown)}; "
            "expected host, port, database, user, password"
        )
    setup = tuple(tuple(map(str, step)) for step in raw.get("setup") or [])
    return PostgresPlan(str(raw["secret"]), {str(k): str(v) for k, v in raw["keys"].items()}, setup)


def load_secret_source(path: str | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"--secrets {path}: cannot read: {exc}") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ConfigError(f"--secrets {path}: expected <secret name>: {{<key>: <value>}}")
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in raw.items()}


def probeable_overlays(repo: Path, overlays: list[Overlay]) -> list[Overlay]:
    """Overlays whose service has source under apps/ (by the base's image names, cheaply: the
    service's rendered images are checked again by probe_overlay)."""
    apps = {p.name for p in (repo / "apps").glob("*") if (p / "Dockerfile").is_file()}
    return [o for o in overlays if o.service in apps]
