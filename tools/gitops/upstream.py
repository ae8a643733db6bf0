"""The upstream validator: kube-apiserver's own create path, judging documents without a server.

``make validator`` (or ``make setup`` where Go is installed) builds ``gitops-validator`` from
tools/validator, a small Go main over k8s.io/kubernetes' registry and apiextensions-apiserver
at the pinned release, into the user's cache. One process judges a whole run: every CRD is
taught first, then each document gets the verdict a create would: strict decoding, defaulting,
the registry strategy's validation and warnings, the Service allocators, CRD schemas and CEL.

    >>> judge = UpstreamValidator.find(config)           # None: not built for this version
    >>> verdicts = judge.judge([deployment], crds=[])   # one Verdict per document, in order
    >>> verdicts[0].problems()
    ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gitops.cachedirs import xdg_cache_home
from gitops.config import ApiServerSettings, RepoConfig
from gitops.errors import GitopsError
from gitops.runner import Command, CommandResult, Feed, Started, go_environment, run, start

BINARY = "gitops-validator"
# `make validator` builds into ${XDG_CACHE_HOME:-~/.cache}/integration-gitops/validator/
# gitops-validator-v1.M.P/ (tools/cluster/build.py); `.complete` is written last.
_FOLDER = re.compile(r"^gitops-validator-v1\.(\d+)\.(\d+)$")
# kube-apiserver emulates up to three minors back (--emulated-version, KEP-4330).
EMULATED_MINORS = 3
# Per-document time budget on top of the start-up one: a few ms each in practice.
_START_SECONDS = 60.0
_SECONDS_PER_DOCUMENT = 0.05

# What the Python fallback checks of the API server's validation, and what it leaves out: the
# one line `validate` and `check` print when the upstream validator is not built.
FALLBACK_NOTE = (
    "API-server rules checked by the Python fallback only (schemas, names, labels, selectors, "
    "ports, enums, PDB/HPA bounds); not checked: most cross-field rules of pods (probes, "
    "security context, volumes, env), Jobs/CronJobs, Ingress, Secrets, RBAC, NetworkPolicy, "
    "Service allocation ranges and CRD CEL rules. Run `make validator` (needs Go >= 1.26) to "
    "judge with kube-apiserver's own code"
)

Runner = Callable[[Command], CommandResult]


class UpstreamValidatorError(GitopsError):
    """The validator could not judge: it failed to start, or answered out of protocol."""


@dataclass(frozen=True)
class Cause:
    field: str
    type: str
    message: str


@dataclass(frozen=True)
class Verdict:
    """kube-apiserver's answer to one create, as the Status it would send."""

    allowed: bool
    reason: str = ""  # Invalid, BadRequest, NotFound (not served), InternalError...
    message: str = ""
    causes: tuple[Cause, ...] = ()
    warnings: tuple[str, ...] = ()
    not_served: bool = False  # no API of the version serves this apiVersion/kind

    @property
    def decoding(self) -> bool:
        """Rejected before validation: unknown field, wrong type, unparsable document."""
        return not self.allowed and self.reason == "BadRequest"

    def problems(self) -> list[str]:
        """One line per problem, as kubectl prints a rejected apply's causes."""
        if self.allowed:
            return []
        if self.causes:
            return [f"{c.field}: {c.message}" if c.field else c.message for c in self.causes]
        return [self.message]


@dataclass(frozen=True)
class UpstreamValidator:
    binary: Path
    release: str  # "v1.36.3": the Kubernetes release whose code judges
    kubernetes_version: str  # the minor it judges as ("1.36"; older minors are emulated)
    settings: ApiServerSettings = field(default_factory=ApiServerSettings)
    runner: Runner = run
    feature_gates: tuple[tuple[str, bool], ...] = ()  # gitops.yaml featureGates
    # CRDs taught before every judgement: ours (bundled, as files the validator reads) and
    # schemas.crdDirs'.
    crds: tuple[Mapping[str, Any] | Path, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def find(
        cls,
        config: RepoConfig,
        kubernetes_version: str | None = None,
        environ: Mapping[str, str] | None = None,
        runner: Runner = run,
    ) -> UpstreamValidator | None:
        """The validator for the configured (or given) version: gitops.yaml's
        ``apiServer.validator``, else the newest build in the cache that judges that minor."""
        version = kubernetes_version or config.kubernetes_version
        minor = int(version.split(".")[1])
        settings = config.api_server
        if settings.validator is not None:
            path = Path(settings.validator).expanduser()
            if not os.access(path, os.X_OK):
                raise UpstreamValidatorError(
                    f"gitops.yaml: apiServer.validator: {path} is not an executable file"
                )
            return cls(path, "(configured)", version, settings, runner, config.feature_gates)
        for release_minor, patch, binary in sorted(_built(environ), reverse=True):
            if release_minor - EMULATED_MINORS <= minor <= release_minor:
                release = f"v1.{release_minor}.{patch}"
                return cls(binary, release, version, settings, runner, config.feature_gates)
        return None

    def describe(self) -> str:
        """For report headers and ``--version``."""
        release = f"kube-apiserver {self.release}"
        if self.release.startswith(f"v{self.kubernetes_version}."):
            return f"{release} validation"
        return f"{release} validation emulating {self.kubernetes_version}"

    def judge(
        self,
        documents: Sequence[Mapping[str, Any]],
        crds: Sequence[Mapping[str, Any] | Path] = (),
        namespace: str | None = None,
    ) -> tuple[list[Verdict], list[Verdict]]:
        """(the CRDs' verdicts, the documents' verdicts), in order. CRDs are taught first, so
        a custom resource may come before its definition. ``namespace``: where documents that
        name none would be created (kubectl's default is ``default``)."""
        return self.start().judge(documents, crds, namespace)

    def start(self) -> Judgement:
        """Start the validator now: it builds the API server's stores and its allocators get
        ready while the caller reads its inputs (about 0.1-0.2 s)."""
        command = Command(
            argv=(str(self.binary), *self._flags()), timeout=_START_SECONDS, env=go_environment()
        )
        started = start(command, stdin=True) if self.runner is run else None
        return Judgement(self, command, started)

    def served_kinds(self) -> list[tuple[str, str, bool]]:
        """(apiVersion, kind, namespaced) of every built-in kind a manifest can create at the
        version, as the API server's discovery lists them."""
        command = Command(
            (str(self.binary), *self._flags(), "--list-kinds"), timeout=_START_SECONDS
        )
        kinds = []
        for line in self.runner(command).stdout.splitlines():
            api_version, kind, scope = line.split()
            kinds.append((api_version, kind, scope == "Namespaced"))
        return kinds

    def _flags(self) -> list[str]:
        flags = [
            f"--kubernetes-version={self.kubernetes_version}",
            f"--service-cluster-ip-range={self.settings.service_cluster_ip_range}",
            f"--service-node-port-range={self.settings.service_node_port_range}",
            f"--allow-privileged={'true' if self.settings.allow_privileged else 'false'}",
        ]
        if self.feature_gates:
            gates = ",".join(
                f"{name}={'true' if on else 'false'}" for name, on in self.feature_gates
            )
            flags.append(f"--feature-gates={gates}")
        return flags


class Judgement:
    """A validator process started by :meth:`UpstreamValidator.start` for one run. Documents
    are sent as the caller has them (:meth:`learn`, :meth:`send`), so the validator judges the
    first ones while the caller reads the next; :meth:`verdicts` collects every answer. It
    judges once; judging again starts another process."""

    def __init__(
        self, validator: UpstreamValidator, command: Command, started: Started | None
    ) -> None:
        self.validator = validator
        self.command = command
        self.started = started  # None: the validator's runner is a stand-in, run at verdicts()
        self._feed: Feed | None = None
        self._lines: list[str] = []  # for a stand-in runner: sent all at once at verdicts()
        self._sent = self._learnt = self._documents = 0
        self._own = -1  # how many of the answers are for the validator's own CRDs
        self._files: dict[int, Path] = {}  # answer index -> the CRD file it learnt

    def learn(self, crd: Mapping[str, Any] | Path) -> int:
        """Teach a CRD, or every CRD of a YAML file (the validator reads it); the custom
        resources sent after it are judged by it. Returns the index of its verdict in
        :meth:`verdicts`."""
        self._teach_own()
        self._learnt += 1
        ident = f"crd-{self._learnt - 1}"
        if isinstance(crd, Path):
            self._files[self._sent] = crd
            request = {"id": ident, "op": "learn", "file": str(crd.resolve())}
            return self._put(json.dumps(request, ensure_ascii=False) + "\n")
        return self._put(_line(ident, "learn", crd, None))

    def send(self, document: Mapping[str, Any], namespace: str | None = None) -> int:
        """Judge a document (``namespace``: where one that names none would be created).
        Returns the index of its verdict in :meth:`verdicts`."""
        self._teach_own()
        self._documents += 1
        return self._put(_line(f"doc-{self._documents - 1}", "", document, namespace))

    def flush(self) -> None:
        """Let the validator have what was sent so far (it is buffered until then)."""
        if self._feed is not None:
            self._feed.flush()

    def verdicts(self) -> list[Verdict]:
        """Every verdict, in the order :meth:`learn` and :meth:`send` were called."""
        self._teach_own()
        sent, own, lines, feed, files = self._sent, self._own, self._lines, self._feed, self._files
        self._sent, self._own, self._lines, self._feed = 0, -1, [], None  # the next: anew
        self._learnt = self._documents = 0
        self._files = {}
        timeout = _START_SECONDS + _SECONDS_PER_DOCUMENT * sent
        if feed is not None:
            result = feed.finish(timeout)
        else:
            command = replace(self.command, stdin="".join(lines), timeout=timeout)
            result = self.validator.runner(command)
        answers = _parse_answers(result.stdout, sent)
        for index, path in files.items():
            # Our CRD files are valid: a refusal is a validator older than this protocol.
            if not answers[index].allowed:
                raise UpstreamValidatorError(
                    f"{BINARY} ({self.validator.binary}) could not learn the CRDs of {path}: "
                    f"{answers[index].message} (built before this gitops? run `make validator`)"
                )
        return answers[own:]

    def judge(
        self,
        documents: Sequence[Mapping[str, Any]],
        crds: Sequence[Mapping[str, Any] | Path] = (),
        namespace: str | None = None,
    ) -> tuple[list[Verdict], list[Verdict]]:
        """See :meth:`UpstreamValidator.judge`: CRDs first, then the documents, at once."""
        for crd in crds:
            self.learn(crd)
        for document in documents:
            self.send(document, namespace)
        answers = self.verdicts()
        return answers[: len(crds)], answers[len(crds) :]

    def cancel(self) -> None:
        """Stop a started validator that will not be asked (the run failed before)."""
        started, self.started = self.started, None
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.kill()
        elif started is not None and started.popen.poll() is None:
            started.popen.kill()
            started.popen.communicate()

    def _teach_own(self) -> None:
        """The validator's own CRDs (ours, schemas.crdDirs'), before anything else."""
        if self._own < 0:
            self._own = 0  # first: learn() calls back here
            for crd in self.validator.crds:
                self.learn(crd)
            self._own = self._sent

    def _put(self, line: str) -> int:
        if self._feed is None and self.validator.runner is run:
            started, self.started = self.started, None
            self._feed = (started or start(self.command, stdin=True)).feed()
        if self._feed is not None:
            self._feed.write(line)
        else:
            self._lines.append(line)
        self._sent += 1
        return self._sent - 1 - self._own


def validator_cache_root(environ: Mapping[str, str] | None = None) -> Path:
    return xdg_cache_home(environ) / "integration-gitops" / "validator"


def _built(environ: Mapping[str, str] | None) -> list[tuple[int, int, Path]]:
    """(minor, patch, binary) of every complete build in the cache."""
    root = validator_cache_root(environ)
    found = []
    for folder in root.glob("gitops-validator-v1.*") if root.is_dir() else []:
        match = _FOLDER.match(folder.name)
        binary = folder / BINARY
        if match and (folder / ".complete").is_file() and os.access(binary, os.X_OK):
            found.append((int(match.group(1)), int(match.group(2)), binary))
    return found


def _line(ident: str, op: str, body: Mapping[str, Any], namespace: str | None) -> str:
    request: dict[str, Any] = {"id": ident, "object": body}
    if op:
        request["op"] = op
    if namespace:
        request["namespace"] = namespace
    # Rendered YAML can hold dates and other non-JSON scalars: as strings, as the API sees them.
    return json.dumps(request, default=str, ensure_ascii=False) + "\n"


def _parse_answers(stdout: str, expected: int) -> list[Verdict]:
    verdicts = []
    for number, line in enumerate(stdout.splitlines(), 1):
        try:
            answer = json.loads(line)
            verdicts.append(_verdict(answer))
        except (ValueError, TypeError, KeyError) as exc:
            raise UpstreamValidatorError(
                f"{BINARY}: answer {number} is not a verdict ({exc}): {line[:200]!r}"
            ) from exc
    if len(verdicts) != expected:
        raise UpstreamValidatorError(f"{BINARY}: answered {len(verdicts)} of {expected} documents")
    return verdicts


def _verdict(answer: dict[str, Any]) -> Verdict:
    return Verdict(
        allowed=bool(answer["allowed"]),
        reason=str(answer.get("reason", "")),
        message=str(answer.get("message", "")),
        causes=tuple(
            Cause(str(c.get("field", "")), str(c.get("type", "")), str(c["message"]))
            for c in answer.get("causes") or ()
        ),
        warnings=tuple(str(w) for w in answer.get("warnings") or ()),
        not_served=bool(answer.get("notServed", False)),
    )
