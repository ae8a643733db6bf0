"""``gitops validate``: strict schema validation of already-rendered YAML, like kubeconform.

Every file and every document is checked and every problem reported; the CLI exits 1 if any
document is invalid or unparseable, 2 for usage errors (a missing path, an unknown version).

    >>> result = run_validate(["build/rendered"], None, load_config(Path(".")), None)
    >>> print(format_text(result))
    build/rendered/prod/web.yaml:12: Deployment/web: spec.replicas: expected integer, got string '3'
    40 documents, 1 invalid
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gitops.config import RepoConfig
from gitops.errors import GitopsError
from gitops.schema import SchemaValidator
from gitops.yamlio import read_documents

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


class ValidateUsageError(GitopsError):
    """A path to validate does not exist or cannot be read."""


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

    @property
    def invalid(self) -> list[DocumentResult]:
        return [d for d in self.documents if not d.ok]

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(d.ok for d in self.documents)


def run_validate(
    paths: list[str],
    stdin_text: str | None,
    config: RepoConfig,
    k8s_version: str | None,
    repo: Path | None = None,
    validator: SchemaValidator | None = None,
) -> ValidateResult:
    """Validate every document of ``paths`` (files or folders, ``-`` for ``stdin_text``).

    ``repo`` is where gitops.yaml's ``schemas.crdDirs`` are looked up (default: the current
    directory); ``validator`` lets a caller reuse one across calls.
    """
    if validator is None:
        validator = SchemaValidator.for_repo(repo or Path("."), config, k8s_version)
    documents: list[DocumentResult] = []
    file_errors: list[str] = []
    for source, text in _read_sources(paths, stdin_text):
        loaded = read_documents(text, source)
        file_errors.extend(loaded.errors)
        for document in loaded.documents:
            body = document.body
            metadata = body.get("metadata")
            metadata = metadata if isinstance(metadata, dict) else {}
            api_version, kind = body.get("apiVersion"), body.get("kind")
            skipped = (
                isinstance(api_version, str)
                and isinstance(kind, str)
                and validator.is_skipped(api_version, kind)
            )
            messages = (*document.problems, *validator.validate(body))
            documents.append(
                DocumentResult(
                    source=source,
                    index=document.index,
                    line=document.line,
                    api_version=_text(api_version),
                    kind=_text(kind),
                    namespace=_text(metadata.get("namespace")),
                    name=_text(metadata.get("name")),
                    messages=messages,
                    skipped=skipped,
                )
            )
    return ValidateResult(validator.kubernetes_version, tuple(documents), tuple(file_errors))


def format_text(result: ValidateResult) -> str:
    """One ``file:line: Kind/name: message`` line per problem, then a summary line."""
    lines = list(result.file_errors)
    for document in result.documents:
        lines += [
            f"{document.source}:{document.line}: {document.label()}: {message}"
            for message in document.messages
        ]
    invalid = len(result.invalid) + len(result.file_errors)
    summary = f"{len(result.documents)} documents, {invalid} invalid"
    skipped = sum(d.skipped for d in result.documents)
    if skipped:
        summary += f", {skipped} skipped (schemas.skipKinds)"
    lines.append(f"{summary} (Kubernetes {result.kubernetes_version})")
    return "\n".join(lines) + "\n"


def _read_sources(paths: list[str], stdin_text: str | None) -> Iterator[tuple[str, str]]:
    # Resolve every path first: a typo in the last argument is a usage error before any output.
    files: list[str] = []
    for path in paths:
        if path == STDIN:
            files.append(STDIN)
        elif os.path.isdir(path):
            found = sorted(_manifest_files(Path(path)))
            files += [str(p) for p in found]
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise ValidateUsageError(f"{path}: no such file or directory")
    for source in files:
        if source == STDIN:
            yield STDIN, stdin_text or ""
            continue
        try:
            yield source, Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidateUsageError(f"{source}: cannot read: {exc}") from exc


def _manifest_files(folder: Path) -> Iterable[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # .git, editor folders
        for name in names:
            if name.endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                yield Path(root) / name


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
