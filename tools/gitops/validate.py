"""``gitops validate``: strict schema validation of already-rendered YAML, like kubeconform.

Every file and every document is checked and every problem reported; the CLI exits 1 if any
document is invalid or unparseable, 2 for usage errors (a missing path, an unknown version).

    >>> result = run_validate(["build/rendered"], None, load_config(Path(".")), None)
    >>> print(format_text(result))
    build/rendered/prod/web.yaml:12: Deployment/web: spec.replicas: expected integer, got string '3'
    40 documents, 1 invalid
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from gitops.config import RepoConfig
from gitops.errors import GitopsError
from gitops.k8s.features import FeatureGates
from gitops.manifest_files import MANIFEST_SUFFIXES, STDIN, ManifestFiles, manifest_files
from gitops.schema import SchemaValidator
from gitops.upstream import Judgement, UpstreamValidator, Verdict
from gitops.yamlio import Document, compose_nodes, read_documents

if TYPE_CHECKING:
    from gitops.model import FieldPath

PYTHON_VALIDATOR = "Python validator"


class ValidateUsageError(GitopsError):
    """A path to validate does not exist."""


class NothingToValidateError(GitopsError):
    """The inputs hold no Kubernetes document: exit 2, never "0 documents, 0 invalid", unless
    the caller asked for that (``--allow-no-documents``: a hook handed only patches)."""

    def __init__(self, message: str, notes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.notes = notes  # the files skipped as not being objects, as format_text notes them

    def format_text(self) -> str:
        """What ``--allow-no-documents`` prints instead of the error: each skipped file, then
        a summary saying nothing was validated."""
        lines = [f"note: {note}" for note in self.notes]
        skipped = f", {len(self.notes)} file(s) skipped" if self.notes else ""
        lines.append(f"0 documents{skipped}: nothing to validate (--allow-no-documents)")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class DocumentResult:
    source: str  # the path as found (relative to the current directory when under it), "-"
    index: int  # 0-based position in its file, -1 for a file-level problem
    line: int  # 1-based, 0 when unknown
    api_version: str | None
    kind: str | None
    namespace: str | None
    name: str | None
    messages: tuple[str, ...]
    skipped: bool = False  # listed in schemas.skipKinds: identity checked, schema not
    warnings: tuple[str, ...] = ()  # what the API server would warn about (upstream validator)
    # The line of each message and each warning: the value it is about, else ``line``.
    lines: tuple[int, ...] = ()
    warning_lines: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.messages

    def label(self) -> str:
        """``Kind/name`` as kubectl prints it, or what is known of it."""
        if self.kind and self.name:
            return f"{self.kind}/{self.name}"
        return self.kind or self.name or f"document {self.index}"


@dataclass(frozen=True)
class ValidateResult:
    kubernetes_version: str
    documents: tuple[DocumentResult, ...]
    # Problems that are not a document: syntax errors (the rest of that file is not parsed),
    # non-mapping documents. Each is "source:line: message".
    file_errors: tuple[str, ...]
    notes: tuple[str, ...] = ()  # files recognised as not being objects, and skipped
    judge: str = PYTHON_VALIDATOR  # who gave the verdicts: PYTHON_VALIDATOR or describe()

    @property
    def invalid(self) -> list[DocumentResult]:
        return [d for d in self.documents if not d.ok]

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(d.ok for d in self.documents)


def run_validate(  # noqa: PLR0913
    paths: list[str],
    stdin_text: str | bytes | None,
    config: RepoConfig,
    k8s_version: str | None,
    repo: Path | None = None,
    validator: SchemaValidator | None = None,
    upstream: UpstreamValidator | Judgement | None = None,
) -> ValidateResult:
    """Validate every document of ``paths`` (files or folders, ``-`` for ``stdin_text``).

    ``repo`` is where gitops.yaml's ``schemas.crdDirs`` are looked up (default: the current
    directory); ``validator`` lets a caller reuse one across calls; ``upstream``, when given,
    judges every document with kube-apiserver's code (one process for the run) and the Python
    validator only words the advice for kinds nothing serves (a :class:`Judgement` already
    started: one the caller started early, so it is ready sooner). A file that cannot be read or
    decoded is one file error and the others are still validated; CRDs in the input are used
    for the custom resources next to them; ``List`` kinds are validated item by item. Seven
    parameters, one per input of the run.
    """
    # Started first: it gets ready while the inputs are read (gitops.upstream.start).
    judging = upstream.start() if isinstance(upstream, UpstreamValidator) else upstream
    try:
        return _validate(paths, stdin_text, config, k8s_version, repo, validator, judging)
    finally:
        if judging is not None:
            judging.cancel()  # a no-op once it has judged


def _validate(  # noqa: PLR0913
    paths: list[str],
    stdin_text: str | bytes | None,
    config: RepoConfig,
    k8s_version: str | None,
    repo: Path | None,
    validator: SchemaValidator | None,
    judging: Judgement | None,
) -> ValidateResult:
    """:func:`run_validate` once the upstream validator (if any) runs. Seven parameters: those
    of run_validate, the validator started."""
    if validator is None:
        validator = SchemaValidator.for_repo(repo or Path("."), config, k8s_version)
    file_errors: list[str] = []
    crd_errors: list[str] = []
    notes: list[str] = []
    items: list[tuple[Document, dict[str, Any] | None, str, tuple[str, ...]]] = []
    texts: dict[str, str] = {}
    inputs = ManifestFiles()
    judge = _Judge(validator, config, judging, texts)
    for source, text, problem in _read_sources(paths, stdin_text):
        if problem is not None:
            file_errors.append(f"{source}: {problem}")
            continue
        skip = inputs.skip_reason(source, text)
        if skip is not None:
            notes.append(f"{source}: {skip}, skipped")
            continue
        stream = read_documents(text, source)
        file_errors.extend(stream.errors)
        texts[source] = text
        # CRDs first: a custom resource may come before its definition in the stream.
        for crd in (d for d in stream.documents if _is_crd(d.body)):
            crd_errors.extend(validator.add_crd_object(crd.body, f"{crd.source}:{crd.line}"))
            judge.learn(crd.body)
        for document in stream.documents:
            for item in _expand_list(document):
                judge.send(len(items), item[0])
                items.append((document, *item))
        judge.flush()  # judged while the next file is read
    file_errors.extend(crd_errors)
    judge.collect()
    documents = [judge.result(index, *item) for index, item in enumerate(items)]
    if not documents and not file_errors:
        raise NothingToValidateError(
            f"no Kubernetes documents in {', '.join(paths)} (expected YAML or JSON manifests "
            f"with apiVersion and kind: {', '.join(MANIFEST_SUFFIXES)} files, or - for stdin)"
            + (f"; {len(notes)} file(s) skipped" if notes else ""),
            tuple(notes),
        )
    return ValidateResult(
        validator.kubernetes_version,
        tuple(documents),
        tuple(file_errors),
        tuple(notes),
        judging.validator.describe() if judging is not None else PYTHON_VALIDATOR,
    )


class _Judge:
    """Who says what is wrong with a parsed object: the upstream validator's verdicts, taken
    for all objects at once, or the Python validator's rules, object by object."""

    def __init__(
        self,
        validator: SchemaValidator,
        config: RepoConfig,
        judging: Judgement | None,
        texts: dict[str, str],
    ) -> None:
        self.validator = validator
        self.config = config
        self.judging = judging
        self.verdicts: dict[int, Verdict] = {}
        self._answers: dict[int, int] = {}  # object index -> its verdict's index
        self._deferred: list[tuple[int, dict[str, Any]]] = []
        self.texts = texts  # source -> text, to find a problem's line
        self._nodes: dict[str, dict[int, yaml.Node]] = {}
        # The repository's CRDs (schemas.crdDirs) and the bundled ones, before any input.
        for crd in validator.crd_documents():
            self.learn(crd)

    @functools.cached_property
    def gates(self) -> FeatureGates:
        """The feature gates the Python validator's rules follow: read when it judges (the
        upstream validator gets gitops.yaml's featureGates as flags)."""
        return self.config.gates(self.validator.kubernetes_version)

    def learn(self, crd: Mapping[str, Any] | Path) -> None:
        """Teach the upstream validator a CRD (or a file of them), before the objects sent
        after it."""
        if self.judging is not None:
            self.judging.learn(crd)

    def send(self, index: int, body: dict[str, Any] | None) -> None:
        """Give object ``index`` to the upstream validator: a built-in kind now, so it is
        judged while the next files are read; anything else (a custom resource, whose CRD may
        come later in the input) at :meth:`collect`, after every CRD."""
        if self.judging is None or body is None:
            return
        if self._builtin(body):
            self._answers[index] = self.judging.send(body)
        else:
            self._deferred.append((index, body))

    def flush(self) -> None:
        if self.judging is not None:
            self.judging.flush()

    def collect(self) -> None:
        """Every verdict, once every object was sent."""
        if self.judging is None:
            return
        for index, body in self._deferred:
            self._answers[index] = self.judging.send(body)
        verdicts = self.judging.verdicts()
        self.verdicts = {index: verdicts[answer] for index, answer in self._answers.items()}

    def _builtin(self, body: dict[str, Any]) -> bool:
        """Whether the object is of a kind the API server has built in at this version (its
        group is Kubernetes' own and the version has a schema for it), not one a CRD adds."""
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            return True  # judged as is: the validator says what is missing
        group = api_version.rpartition("/")[0]
        if group and "." in group and not group.endswith(".k8s.io"):
            return False
        return self.validator.is_builtin(api_version, kind)

    def result(
        self,
        index: int,
        document: Document,
        item_body: dict[str, Any] | None,
        item: str,
        problems: tuple[str, ...],
    ) -> DocumentResult:
        """The result of object ``index``: ``item_body`` (None: the document could not be
        validated, ``problems`` says why), ``item`` prefixes the messages of a List's items."""
        body = item_body if item_body is not None else document.body
        metadata = body.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        api_version, kind = body.get("apiVersion"), body.get("kind")
        skipped = (
            isinstance(api_version, str)
            and isinstance(kind, str)
            and self.validator.is_skipped(api_version, kind)
        )
        messages, warnings = list(problems), list[str]()
        if item_body is not None:
            found, warnings = self.problems(index, body, skipped)
            messages += found
        prefix: FieldPath = _item_path(item)
        return DocumentResult(
            source=document.source,
            index=document.index,
            line=document.line,
            api_version=_text(api_version),
            kind=_text(kind),
            namespace=_text(metadata.get("namespace")),
            name=_text(metadata.get("name")),
            messages=tuple(f"{item}{m}" for m in messages),
            skipped=skipped,
            warnings=tuple(f"{item}{w}" for w in warnings),
            lines=self.lines(document, prefix, messages[len(problems) :], len(problems)),
            warning_lines=self.lines(document, prefix, warnings, 0),
        )

    def lines(
        self, document: Document, prefix: FieldPath, messages: list[str], unplaced: int
    ) -> tuple[int, ...]:
        """The line of each message's field in the document's YAML (0: the document's line);
        the first ``unplaced`` messages (the reader's own) keep the document's line."""
        if not messages:
            return ()
        # Loaded for a run that has problems to place only: a run the upstream validator
        # judges clean never imports them (the locator brings the render model with it).
        from gitops.locate import line_of
        from gitops.model import problem_field

        if not any(problem_field(m) for m in messages):
            return ()
        node = self._node(document)
        found = [
            line_of(node, (*prefix, *problem_field(m)), document.body) if node else 0
            for m in messages
        ]
        return (*([0] * unplaced), *found)

    def _node(self, document: Document) -> yaml.Node | None:
        """The document's YAML node: the file composed once, the first time one is needed."""
        if document.source not in self._nodes:
            nodes = compose_nodes(self.texts.get(document.source, ""))
            self._nodes[document.source] = {int(n.start_mark.line) + 1: n for n in nodes}
        return self._nodes[document.source].get(document.line)

    def problems(
        self, index: int, body: dict[str, Any], skipped: bool
    ) -> tuple[list[str], list[str]]:
        """(problems, warnings) of one object."""
        verdict = self.verdicts.get(index)
        if verdict is None:
            return document_problems(body, self.validator, self.gates), []
        if skipped:  # schemas.skipKinds: accepted without a schema, identity checked
            return self.validator.validate(body), []
        if verdict.not_served:
            # The Python validator words the advice: removal version and replacement, or
            # "add its CRD"; kubectl's own words if it has none.
            return self.validator.validate(body) or verdict.problems(), []
        return verdict.problems(), list(verdict.warnings)


def document_problems(
    body: dict[str, Any], validator: SchemaValidator, gates: FeatureGates
) -> list[str]:
    """Every problem of one parsed object, ``<field path>: <problem>``: the schema's (types,
    required and unknown fields) and then the API server's rules the schema cannot state
    (:mod:`gitops.apivalidation`, at ``gates``' version). [] when it is valid; a kind listed
    in schemas.skipKinds gets neither."""
    from gitops.apivalidation import api_problems  # the fallback's rules: only where it judges

    problems = validator.validate(body)
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if (
        isinstance(api_version, str)
        and isinstance(kind, str)
        and validator.is_skipped(api_version, kind)
    ):
        return problems
    return [*problems, *api_problems(body, gates)]


def _item_path(item: str) -> FieldPath:
    """``items[3]: `` (a List's item, as messages prefix it) as a path."""
    return ("items", int(item[6:-3])) if item.startswith("items[") else ()


def _is_crd(body: dict[str, Any]) -> bool:
    return body.get("kind") == "CustomResourceDefinition" and str(
        body.get("apiVersion", "")
    ).startswith("apiextensions.k8s.io/")


def is_list_kind(body: dict[str, Any]) -> bool:
    """``v1 List`` and ``<Kind>List`` (ConfigMapList, RoleList...): kubectl applies their items
    one by one (k8s.io/apimachinery meta.ExtractList accepts any object with an items list)."""
    kind = body.get("kind")
    return (
        isinstance(kind, str)
        and kind.endswith("List")
        and isinstance(body.get("apiVersion"), str)
        and "items" in body
    )


def _expand_list(
    document: Document,
) -> Iterator[tuple[dict[str, Any] | None, str, tuple[str, ...]]]:
    """(object to validate or None, message prefix, problems found without a schema)."""
    body = document.body
    if not is_list_kind(body):
        yield body, "", document.problems
        return
    items = body.get("items")
    if not isinstance(items, list):
        yield None, "", (*document.problems, "items: expected a list of objects")
        return
    if document.problems:
        yield None, "", document.problems
    for number, item in enumerate(items):
        if isinstance(item, dict):
            yield item, f"items[{number}]: ", ()
        else:
            yield None, "", (f"items[{number}]: expected a mapping (a Kubernetes object)",)


def format_text(result: ValidateResult) -> str:
    """One ``file:line: Kind/name: message`` line per problem, then a summary line."""
    lines = [f"note: {note}" for note in result.notes]
    lines += list(result.file_errors)
    for document in result.documents:
        label = document.label()
        for message, line in _placed(document, document.messages, document.lines):
            lines.append(f"{document.source}:{line}: {label}: {message}")
        for warning, line in _placed(document, document.warnings, document.warning_lines):
            lines.append(f"{document.source}:{line}: {label}: warning: {warning}")
    summary = f"{len(result.documents)} documents, {len(result.invalid)} invalid"
    warned = sum(bool(d.warnings) for d in result.documents)
    if warned:
        summary += f", {warned} with warnings"
    if result.file_errors:
        summary += f", {len(result.file_errors)} unreadable or unparseable input(s)"
    skipped = sum(d.skipped for d in result.documents)
    if skipped:
        summary += f", {skipped} skipped (schemas.skipKinds)"
    if result.notes:
        summary += f", {len(result.notes)} file(s) skipped"
    judged = "" if result.judge == PYTHON_VALIDATOR else f", judged by {result.judge}"
    lines.append(f"{summary} (Kubernetes {result.kubernetes_version}{judged})")
    return "\n".join(lines) + "\n"


def _placed(
    document: DocumentResult, messages: tuple[str, ...], lines: tuple[int, ...]
) -> Iterator[tuple[str, int]]:
    """Each message with its line; the document's own where none is known."""
    for number, message in enumerate(messages):
        line = lines[number] if number < len(lines) else 0
        yield message, line or document.line


def _read_sources(
    paths: list[str], stdin_text: str | bytes | None
) -> Iterator[tuple[str, str, str | None]]:
    """(source, text, None) per readable file, (source, "", problem) per unreadable one."""
    # Resolve every path first: a typo in the last argument is a usage error before any output.
    files: list[str] = []
    for path in paths:
        if path == STDIN:
            files.append(STDIN)
        elif os.path.isdir(path):
            found = sorted(manifest_files(Path(path)))
            files += [str(p) for p in found]
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise ValidateUsageError(f"{path}: no such file or directory")
    for source in files:
        if source == STDIN:
            data: str | bytes = stdin_text or ""
        else:
            try:
                data = Path(source).read_bytes()
            except OSError as exc:
                yield source, "", f"cannot read: {exc.strerror}"
                continue
        text, problem = decode_text(data)
        yield source, text, problem


def decode_text(data: str | bytes) -> tuple[str, str | None]:
    """UTF-8 text (a BOM allowed, as in Go's YAML decoders), or why the input is not text."""
    if isinstance(data, str):
        return data, None
    if b"\0" in data[:8192]:
        return "", "binary data (a NUL byte), expected UTF-8 YAML or JSON text"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return "", (
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}), "
            "expected UTF-8 YAML or JSON"
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
