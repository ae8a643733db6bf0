"""The repository's one configuration file, ``gitops.yaml``, and the defaults used without it.

Every command reads the file at the repository root. Without it the tools still work on any repo
with the ``base/`` + ``overlays/<env>/<service>/`` layout: envs are discovered from ``overlays/``
and their promotion order is assumed from their names (``ENV_TIERS``).

    >>> config = load_config(Path("."))
    >>> config.envs
    ('dev', 'staging', 'prod')
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops import yamlio
from gitops.errors import ConfigError
from gitops.k8s.features import FeatureGates, known_gates

CONFIG_FILE = "gitops.yaml"
DEFAULT_KUBERNETES_VERSION = "1.36"
DEFAULT_KUSTOMIZE_TIMEOUT = 120.0
# Address space per kustomize process (RLIMIT_AS). kubectl's Go runtime reserves ~1.3 GiB of
# address space before rendering anything (VmPeak of a one-ConfigMap build; ~100 MiB resident);
# a YAML alias bomb is stopped at the limit (about 1.5 GiB resident) instead of using 24 GB.
DEFAULT_KUSTOMIZE_MEMORY_MIB = 3072
# Without envs in gitops.yaml, envs found under overlays/ are ranked by these common names, in
# promotion tiers (earliest first). Envs of one tier are not ordered among themselves; an env
# whose name is in no tier has no rank, and rules that compare envs by order skip it.
ENV_TIERS = (
    ("dev", "develop", "development"),
    ("test", "qa", "int", "uat"),
    ("stg", "stage", "staging", "preprod"),
    ("prod", "prd", "production", "live"),
)
_TIER_OF = {name: tier for tier, names in enumerate(ENV_TIERS) for name in names}
_VERSION_RE = re.compile(r"^1\.(\d+)$")
_KNOWN_KEYS = frozenset(
    {
        "kubernetesVersion",
        "envs",
        "repoURL",
        "kustomize",
        "argocdPath",
        "policy",
        "schemas",
        "probe",
        "apiServer",
        "featureGates",
    }
)
_KNOWN_KUSTOMIZE_KEYS = frozenset(
    {"buildOptions", "binary", "helmCommand", "timeoutSeconds", "memoryLimitMiB"}
)


@dataclass(frozen=True)
class KustomizeSettings:
    build_options: tuple[str, ...] = ()
    binary: str | None = None
    # The helm that renders charts (kustomize's --helm-command, Argo CD chart sources); None:
    # $HELM, else the pinned build of `make helm` (gitops.helm.binary).
    helm_command: str | None = None
    timeout: float = DEFAULT_KUSTOMIZE_TIMEOUT
    memory_limit_mib: int = DEFAULT_KUSTOMIZE_MEMORY_MIB

    @property
    def memory_limit(self) -> int:
        return self.memory_limit_mib * 2**20

    @property
    def helm_enabled(self) -> bool:
        """Whether builds inflate ``helmCharts`` (``--enable-helm``, as Argo CD's argocd-cm
        ``kustomize.buildOptions`` must say for the same overlays to render there)."""
        return "--enable-helm" in self.build_options or any(
            o.startswith("--enable-helm=") and o.split("=", 1)[1] == "true"
            for o in self.build_options
        )


@dataclass(frozen=True)
class ApiServerSettings:
    """The target clusters' kube-apiserver settings that a create's verdict depends on
    (gitops.yaml ``apiServer``; kube-apiserver's defaults otherwise): the upstream validator
    runs with them (gitops.upstream)."""

    service_cluster_ip_range: str = "10.96.0.0/12"  # --service-cluster-ip-range
    service_node_port_range: str = "30000-32767"  # --service-node-port-range
    # --allow-privileged: kube-apiserver defaults to false, kubeadm, kind and managed clusters
    # run it with true (privileged pods are then a Pod Security matter, not a rejection).
    allow_privileged: bool = True
    validator: str | None = None  # a gitops-validator binary instead of `make validator`'s


_API_SERVER_KEYS = frozenset(
    {
        "featureGates",
        "serviceClusterIPRange",
        "serviceNodePortRange",
        "allowPrivileged",
        "validator",
    }
)


@dataclass(frozen=True)
class RepoConfig:
    """What ``gitops.yaml`` says, with defaults filled in."""

    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    envs: tuple[str, ...] = ()
    repo_url: str | None = None
    kustomize: KustomizeSettings = KustomizeSettings()
    argocd_path: str = "argocd"
    # Sections owned by later commands (policy, schemas) are kept raw and validated there.
    policy: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    schemas: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    probe: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    source: str | None = None  # repo-relative path of the file, None when defaults are used
    api_server: ApiServerSettings = field(default_factory=ApiServerSettings)
    # featureGates: the cluster's gates where they differ from the version's defaults.
    feature_gates: tuple[tuple[str, bool], ...] = ()
    # True when envs were found under overlays/ (no envs in gitops.yaml): their promotion
    # order is then assumed from their names (ENV_TIERS), not stated.
    envs_assumed: bool = False

    def env_rank(self, env: str) -> int | None:
        """The env's place in the promotion order: its index in gitops.yaml ``envs``, or, when
        the order is assumed, its name's tier; None when unknown (order-dependent rules then
        skip the env rather than guess)."""
        if not self.envs_assumed:
            return self.envs.index(env) if env in self.envs else None
        return _TIER_OF.get(env)

    def comes_before(self, earlier: str, later: str) -> bool:
        """Whether ``earlier`` precedes ``later`` in the promotion order (known ranks only)."""
        first, second = self.env_rank(earlier), self.env_rank(later)
        return first is not None and second is not None and first < second

    def env_order_notes(self) -> tuple[str, ...]:
        """For a report's header: the assumed promotion order and the envs without a rank;
        nothing when gitops.yaml states the order."""
        if not self.envs_assumed or not self.envs:
            return ()
        tiers: dict[int, list[str]] = {}
        for env in self.envs:
            rank = self.env_rank(env)
            if rank is not None:
                tiers.setdefault(rank, []).append(env)
        order = " -> ".join("/".join(tiers[rank]) for rank in sorted(tiers)) or "none"
        notes = [f"env order assumed from the env names (no envs in gitops.yaml): {order}"]
        unranked = [env for env in self.envs if self.env_rank(env) is None]
        if unranked:
            notes.append(
                f"env {', '.join(unranked)}: promotion rank unknown, so rules that compare envs "
                "by order (env-regression) skip it; list envs in gitops.yaml to order it"
            )
        return tuple(notes)

    def gates(self, kubernetes_version: str | None = None) -> FeatureGates:
        """The feature gates the validation rules see: the defaults of ``kubernetes_version``
        (default: kubernetesVersion) with gitops.yaml's ``featureGates`` applied."""
        version = kubernetes_version or self.kubernetes_version
        modelled = set(known_gates())  # the others only reach the upstream validator
        return FeatureGates.for_version(
            version, {name: on for name, on in self.feature_gates if name in modelled}
        )

    @property
    def minor_version(self) -> int:
        match = _VERSION_RE.match(self.kubernetes_version)
        assert match is not None  # validated in load_config
        return int(match.group(1))


def load_config(repo: Path) -> RepoConfig:
    """Read ``<repo>/gitops.yaml``; fall back to defaults (envs from ``overlays/``) if absent."""
    path = repo / CONFIG_FILE
    if not path.is_file():
        return RepoConfig(envs=discover_env_names(repo), envs_assumed=True)
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{CONFIG_FILE}{where}: invalid YAML: {problem}") from exc
    except OSError as exc:
        raise ConfigError(f"{CONFIG_FILE}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{CONFIG_FILE}: not UTF-8 text (byte offset {exc.start})") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{CONFIG_FILE}: expected a mapping at the top level")
    return _parse(raw, repo)


def parse_kubernetes_version(value: str) -> str:
    """Accept "1.33" (also "v1.33" and "1.33.2"); anything else is a ConfigError."""
    match = re.match(r"^v?(1\.\d+)(\.\d+)?$", str(value).strip())
    if not match:
        raise ConfigError(f'Kubernetes version must look like "1.33", got {value!r}')
    return match.group(1)


def reject_unknown_keys(
    raw: Mapping[Any, Any], known: frozenset[str], where: str, section: str = ""
) -> None:
    """ConfigError naming every key of ``raw`` not in ``known`` and what is expected, e.g.
    ``gitops.yaml: policy: unknown key(s) severty; expected some of ...``."""
    unknown = sorted(str(k) for k in set(raw) - known)
    if unknown:
        under = f" under {section}:" if section else ""
        raise ConfigError(
            f"{where}: unknown key(s){under} {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(known))}"
        )


def _parse(raw: dict[str, Any], repo: Path) -> RepoConfig:
    reject_unknown_keys(raw, _KNOWN_KEYS, CONFIG_FILE)
    version = str(raw.get("kubernetesVersion", DEFAULT_KUBERNETES_VERSION))
    if not _VERSION_RE.match(version):
        raise ConfigError(
            f'{CONFIG_FILE}: kubernetesVersion must look like "1.33", got {version!r}'
        )
    envs_raw = raw.get("envs")
    if envs_raw is None:
        envs = discover_env_names(repo)
    elif (
        isinstance(envs_raw, list)
        and envs_raw
        and all(isinstance(e, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", e) for e in envs_raw)
    ):
        if len(set(envs_raw)) != len(envs_raw):
            raise ConfigError(f"{CONFIG_FILE}: envs lists a name twice: {envs_raw}")
        envs = tuple(envs_raw)
    else:
        raise ConfigError(
            f"{CONFIG_FILE}: envs must be a non-empty list of lower-case names, got {envs_raw!r}"
        )
    repo_url = raw.get("repoURL")
    if repo_url is not None and not isinstance(repo_url, str):
        raise ConfigError(f"{CONFIG_FILE}: repoURL must be a string, got {repo_url!r}")
    argocd_path = raw.get("argocdPath", "argocd")
    if not isinstance(argocd_path, str) or argocd_path.startswith("/"):
        raise ConfigError(f"{CONFIG_FILE}: argocdPath must be a repo-relative path")
    for section in ("policy", "schemas", "probe"):
        if not isinstance(raw.get(section, {}), dict):
            raise ConfigError(f"{CONFIG_FILE}: {section} must be a mapping")
    return RepoConfig(
        kubernetes_version=version,
        envs=envs,
        repo_url=repo_url,
        kustomize=_parse_kustomize(raw.get("kustomize")),
        argocd_path=argocd_path.rstrip("/"),
        policy=parse_policy_section(raw.get("policy") or {}, envs),
        schemas=dict(raw.get("schemas") or {}),
        probe=dict(raw.get("probe") or {}),
        source=CONFIG_FILE,
        api_server=parse_api_server(raw.get("apiServer")),
        feature_gates=_parse_feature_gates(raw.get("featureGates")),
        envs_assumed=envs_raw is None,
    )


def _parse_feature_gates(raw: Any) -> tuple[tuple[str, bool], ...]:
    """``featureGates: {HPAScaleToZero: true}``: the target cluster's ``--feature-gates``, where
    they differ from the version's defaults; read by the validators and the simulation."""
    if raw is None:
        return ()
    where = f"{CONFIG_FILE}: featureGates"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping of gate name to true or false")
    modelled = set(known_gates())
    for name, value in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
            raise ConfigError(f"{where}: {name!r} is not a feature gate name (CamelCase)")
        close = next(iter(difflib.get_close_matches(name, sorted(modelled), 1, 0.75)), None)
        close = None if name in modelled else close
        if close is not None:
            # Near a gate gitops models: a typo. Other names are passed on to the upstream
            # validator, which knows every gate of its release and refuses unknown ones.
            raise ConfigError(f"{where}: unknown feature gate {name!r}; did you mean {close}?")
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{name} must be true or false, got {value!r}")
    return tuple(sorted((str(k), v) for k, v in raw.items()))


def parse_api_server(raw: Any) -> ApiServerSettings:
    """``apiServer:``: the kube-apiserver flags of the target clusters that verdicts depend on,
    checked as kube-apiserver checks them (a CIDR, a FIRST-LAST port range, booleans)."""
    where = f"{CONFIG_FILE}: apiServer"
    if raw is None:
        return ApiServerSettings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping")
    reject_unknown_keys(raw, _API_SERVER_KEYS, where)
    defaults = ApiServerSettings()
    cidr = str(raw.get("serviceClusterIPRange", defaults.service_cluster_ip_range))
    try:
        ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise ConfigError(
            f"{where}.serviceClusterIPRange: {cidr!r} is not a CIDR such as 10.96.0.0/12 ({exc})"
        ) from exc
    ports = str(raw.get("serviceNodePortRange", defaults.service_node_port_range))
    match = re.fullmatch(r"(\d+)-(\d+)", ports)
    if not match or not 0 < int(match.group(1)) <= int(match.group(2)) <= 65535:
        raise ConfigError(
            f"{where}.serviceNodePortRange: expected FIRST-LAST such as 30000-32767, got {ports!r}"
        )
    privileged = raw.get("allowPrivileged", defaults.allow_privileged)
    if not isinstance(privileged, bool):
        raise ConfigError(f"{where}.allowPrivileged must be true or false")
    validator = raw.get("validator")
    if validator is not None and not (isinstance(validator, str) and validator):
        raise ConfigError(f"{where}.validator must be the path of a gitops-validator binary")
    return ApiServerSettings(cidr, ports, privileged, validator)


_POLICY_KEYS = frozenset({"severity", "pdbRequiredEnvs", "waivers"})
SEVERITY_VALUES = ("error", "warning", "off")


def parse_policy_section(raw: dict[str, Any], envs: tuple[str, ...]) -> dict[str, Any]:
    """Validate ``policy:`` at load time, so a typo fails every command at start instead of
    only when the misspelt rule fires. Returns the section with severities normalised: YAML 1.1
    reads a bare ``off`` as ``false`` (PyYAML does), which means ``off`` here."""
    where = f"{CONFIG_FILE}: policy"
    reject_unknown_keys(raw, _POLICY_KEYS, where)
    required = raw.get("pdbRequiredEnvs")
    if required is not None and not (
        isinstance(required, list) and all(isinstance(e, str) for e in required)
    ):
        raise ConfigError(f"{where}.pdbRequiredEnvs must be a list of env names, got {required!r}")
    waivers = raw.get("waivers")
    if waivers is not None and not (isinstance(waivers, str) and waivers):
        raise ConfigError(f"{where}.waivers must be a repo-relative file path, got {waivers!r}")
    severity = raw.get("severity")
    if severity is None:
        return dict(raw)
    return {**raw, "severity": _parse_severities(where, severity, envs)}


def _parse_severities(where: str, severity: Any, envs: tuple[str, ...]) -> dict[str, Any]:
    """``policy.severity``: rule id -> severity, or -> {env or "default": severity}. Whether
    each id names a rule is the registry's to say (gitops.policy.check_rule_ids), checked
    wherever gitops.yaml is opened for a command (gitops.repo.open_config)."""
    if not isinstance(severity, dict):
        raise ConfigError(f"{where}.severity must be a mapping of rule id to severity")
    normalised: dict[str, Any] = {}
    for rule_id, value in severity.items():
        if isinstance(value, dict):
            normalised[str(rule_id)] = _per_env_severities(
                f"{where}.severity.{rule_id}", value, envs
            )
        else:
            normalised[str(rule_id)] = _severity_value(f"{where}.severity.{rule_id}", value)
    return normalised


def _per_env_severities(where: str, value: dict[Any, Any], envs: tuple[str, ...]) -> dict[str, str]:
    per_env = {}
    for env, env_value in value.items():
        if env != "default" and env not in envs:
            raise ConfigError(
                f"{where}: {env!r} is not an env ({', '.join(envs) or 'none'}) nor 'default'"
            )
        per_env[str(env)] = _severity_value(f"{where}.{env}", env_value)
    return per_env


def _severity_value(where: str, value: Any) -> str:
    if value is False:  # bare `off` in YAML 1.1
        return "off"
    if isinstance(value, str) and value in SEVERITY_VALUES:
        return value
    raise ConfigError(f"{where} must be error, warning or off, got {value!r}")


def _parse_kustomize(raw: Any) -> KustomizeSettings:
    if raw is None:
        return KustomizeSettings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{CONFIG_FILE}: kustomize must be a mapping")
    reject_unknown_keys(raw, _KNOWN_KUSTOMIZE_KEYS, CONFIG_FILE, section="kustomize")
    options = raw.get("buildOptions", [])
    if isinstance(options, str):  # Argo CD's argocd-cm holds them as one string
        options = options.split()
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise ConfigError(f"{CONFIG_FILE}: kustomize.buildOptions must be a list of strings")
    binary = raw.get("binary")
    if binary is not None and not isinstance(binary, str):
        raise ConfigError(f"{CONFIG_FILE}: kustomize.binary must be a path")
    helm_command = raw.get("helmCommand")
    if helm_command is not None and not (isinstance(helm_command, str) and helm_command):
        raise ConfigError(f"{CONFIG_FILE}: kustomize.helmCommand must be the path of a helm binary")
    timeout = raw.get("timeoutSeconds", DEFAULT_KUSTOMIZE_TIMEOUT)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{CONFIG_FILE}: kustomize.timeoutSeconds must be a positive number")
    memory = raw.get("memoryLimitMiB", DEFAULT_KUSTOMIZE_MEMORY_MIB)
    if isinstance(memory, bool) or not isinstance(memory, int) or memory < 64:
        raise ConfigError(f"{CONFIG_FILE}: kustomize.memoryLimitMiB must be an integer >= 64")
    return KustomizeSettings(
        build_options=tuple(options),
        binary=binary,
        helm_command=helm_command,
        timeout=float(timeout),
        memory_limit_mib=memory,
    )


def discover_env_names(repo: Path) -> tuple[str, ...]:
    """Env names from ``overlays/*/``, in their assumed promotion order (ENV_TIERS), then
    alphabetical; names without a tier come last."""
    overlays = repo / "overlays"
    if not overlays.is_dir():
        return ()
    names = [p.name for p in overlays.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return tuple(sorted(names, key=lambda n: (_TIER_OF.get(n, len(ENV_TIERS)), n)))
