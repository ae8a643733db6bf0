"""Compiled validators: one kind's schema compiled with fastjsonschema (the exhaustive jsonschema
validator only on the first invalid document), and the on-disk cache of the generated code."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import marshal
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING, Any

from gitops.schema.formats import RE2_FORMATS, re2_format_checker
from gitops.schema.messages import format_error, message_sort_key

if TYPE_CHECKING:
    import jsonschema

log = logging.getLogger(__name__)

MAX_ERRORS_PER_DOCUMENT = 100


@dataclass
class CompiledKind:
    """One kind's validators; the exhaustive one is built on the first invalid document."""

    kind_id: str  # "apps/v1/Deployment"
    schema_text: str
    fast: Callable[[Any], Any]
    _slow: jsonschema.protocols.Validator | None = field(default=None, repr=False)

    def errors(self, body: Mapping[str, Any]) -> list[str]:
        from fastjsonschema import JsonSchemaValueException

        try:
            self.fast(body)
            return []
        except JsonSchemaValueException as fast_error:
            errors = self._slow_validator().iter_errors(body)
            # Bounded: a hostile document (thousands of bad items) must not collect millions
            # of messages; the first MAX_ERRORS_PER_DOCUMENT say what is wrong.
            messages: list[str] = []
            for error in errors:
                messages += format_error(error)
                if len(messages) >= MAX_ERRORS_PER_DOCUMENT:
                    messages = sorted(set(messages), key=message_sort_key)
                    messages = messages[:MAX_ERRORS_PER_DOCUMENT]
                    messages.append(
                        f"(more errors not shown: at most {MAX_ERRORS_PER_DOCUMENT} per document)"
                    )
                    return messages
            if messages:
                return sorted(set(messages), key=message_sort_key)
            # The two libraries disagree (should not happen: same schema, same draft); never
            # let an object pass that the fast path rejected.
            path = (fast_error.name or "data").removeprefix("data").lstrip(".") or "(root)"
            return [f"{path}: {fast_error.message}"]

    def _slow_validator(self) -> jsonschema.protocols.Validator:
        if self._slow is None:
            import jsonschema

            self._slow = jsonschema.Draft7Validator(
                json.loads(self.schema_text), format_checker=re2_format_checker()
            )
        return self._slow


def compile_schema(schema: dict[str, Any]) -> tuple[str, CodeType]:
    import fastjsonschema

    # use_default=False: fastjsonschema would otherwise write defaults into the caller's dict.
    # Every `format` of the published schemas is stripped (see _ANNOTATION_KEYS): the only
    # formats left are the RE2 patterns of CRDs, served by RE2_FORMATS.
    code = fastjsonschema.compile_to_code(
        schema,
        formats=RE2_FORMATS,
        use_default=False,
        use_formats=True,
        detailed_exceptions=False,
    )
    return json.dumps(schema, sort_keys=True), compile(code, "<gitops-schema>", "exec")


def load_code(code: CodeType) -> Callable[[Any], Any]:
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # our own generated validator, from fastjsonschema
    validate: Callable[..., Any] = namespace["validate"]
    return functools.partial(validate, custom_formats=RE2_FORMATS)


class DiskCache:
    """Compiled validators on disk, one file per (inputs) hash.

    Files are written to a temp name and renamed, so concurrent writers (parallel CI jobs) each
    publish a complete file and a reader never sees a partial one. The key includes the Python
    bytecode magic (marshal is version-specific) and every input's version.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def key(self, *parts: str) -> str:
        import fastjsonschema

        salt = (
            _TRANSFORM_DIGEST,
            fastjsonschema.VERSION,
            importlib.util.MAGIC_NUMBER.hex(),
            sys.implementation.cache_tag or "",
        )
        return hashlib.sha256("\0".join((*salt, *parts)).encode()).hexdigest()[:32]

    def get(self, key: str) -> tuple[list[str], str, CodeType] | None:
        if self.directory is None:
            return None
        try:
            loaded = marshal.loads((self.directory / f"{key}.bin").read_bytes())
            gvks, schema_text, code = loaded
        except (OSError, EOFError, ValueError, TypeError):
            return None  # absent, truncated or from another Python: rebuild
        if not isinstance(code, CodeType):
            return None
        return list(gvks), str(schema_text), code

    def put(self, key: str, gvks: list[str], schema_text: str, code: CodeType) -> None:
        if self.directory is None:
            return
        import tempfile  # only on a cache miss

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(marshal.dumps((gvks, schema_text, code)))
                os.replace(tmp, self.directory / f"{key}.bin")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a read-only home must not break validation
            log.debug("schema cache not written: %s", exc)


def _source_digest() -> str:
    # Any edit of the transformation or compilation code must invalidate cached validators;
    # hashing the sources of this package makes that automatic instead of relying on a version
    # someone must bump.
    digest = hashlib.sha256()
    for module in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


_TRANSFORM_DIGEST = _source_digest()


def default_cache_dir() -> Path:
    from gitops.cachedirs import user_cache_root

    return user_cache_root() / "schemas"
