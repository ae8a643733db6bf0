"""Offline, strict schema validation of Kubernetes objects for one Kubernetes minor version.

Built-in kinds use the JSON schemas shipped by the ``kubernetes-validate`` package (its
``v1.<minor>.0-local-strict`` folder: unknown fields are errors). Custom resources use CRD
manifests: ours in ``gitops/schemas/`` (ServiceMonitor, Argo CD) plus any the repository keeps in
``schemas.crdDirs`` (default ``crds/``). Every document's errors are reported, not just the first.

Each kind's schema is made self-contained and compiled once with ``fastjsonschema``, which accepts
a valid object in microseconds; only an invalid one goes through ``jsonschema`` to collect every
error with its path. The generated code is cached on disk (``$XDG_CACHE_HOME/gitops/schemas``),
so a fresh process does not pay the ~0.2 s it takes to compile a pod-bearing kind.

    >>> validator = SchemaValidator("1.33")
    >>> validator.validate({"apiVersion": "v1", "kind": "ConfigMap",
    ...                     "metadata": {"name": "app"}, "data": {"a": 1}})
    ['data.a: expected string, got integer 1']
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import marshal
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING, Any

from gitops.config import RepoConfig
from gitops.errors import ConfigError, GitopsError
from gitops.yamlio import YamlError, load_documents

if TYPE_CHECKING:
    import jsonschema

log = logging.getLogger(__name__)

BUNDLED_SCHEMAS = Path(__file__).resolve().parent / "schemas"
DEFAULT_CRD_DIRS = ("crds",)
_SCHEMAS_KEYS = frozenset({"crdDirs", "skipKinds"})
# "<group>/<version>/<Kind>" or, for the core group, "v1/<Kind>": the apiVersion plus the kind.
_KIND_ID = re.compile(r"^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?v[0-9]+[a-z0-9]*/[A-Z][A-Za-z0-9]*$")
_DRAFT = "http://json-schema.org/draft-07/schema#"


# Grammar of resource.Quantity from the doc comment of k8s.io/apimachinery/pkg/api/resource
# (quantity.go): <signedNumber><suffix>, suffix one of the binary SI (Ki..Ei), decimal SI
# (n, u, m, "", k, M, G, T, P, E) or a decimal exponent (e/E and an integer: the doc says
# <signedNumber>, but the parser reads it with strconv.ParseInt, so "1e1.5" fails). The published
# OpenAPI only says "string or number", so "abc" would pass without this.
def _decimal_at_most(limit: int) -> str:
    """A regex for the decimal strings (leading zeros allowed) whose value is at most ``limit``:
    fewer digits, or the same number of digits and smaller at the first digit that differs."""
    digits = str(limit)
    choices = [f"0*[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - i - 1
            choices.append(f"0*{digits[:i]}[0-{int(digit) - 1}][0-9]{{{rest}}}")
    choices.append(f"0*{digits}")
    return "(?:" + "|".join(choices) + ")"


# The exponent is what strconv.ParseInt(..., 10, 64) accepts: -2^63 .. 2^63-1 (quantity.py).
_EXPONENT = rf"[eE](?:\+?{_decimal_at_most(2**63 - 1)}|-{_decimal_at_most(2**63)})"
QUANTITY_PATTERN = (
    r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
    rf"(([KMGTPE]i)|[numkMGTPE]|{_EXPONENT})?$"
)
_QUANTITY_DEF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING_DEF = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_OBJECT_META_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# Keys that only document a schema (or that we deliberately do not check, like `format`: the
# published schemas use int32/int64/byte, which jsonschema ignores by default too; keeping both
# validators blind to them keeps their verdicts identical).
_ANNOTATION_KEYS = frozenset(
    {"description", "example", "externalDocs", "default", "format", "title", "$id", "$schema"}
)
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs"})
RE2_FORMAT_PREFIX = "re2:"
MAX_ERRORS_PER_DOCUMENT = 100


class SchemaError(GitopsError):
    """The schemas themselves cannot be used (unknown Kubernetes version, malformed CRD)."""


@dataclass(frozen=True)
class SchemaSettings:
    """The ``schemas:`` section of gitops.yaml, validated."""

    crd_dirs: tuple[str, ...] = DEFAULT_CRD_DIRS
    crd_dirs_explicit: bool = False  # a folder the user named must exist; the default may not
    skip_kinds: frozenset[str] = frozenset()


def parse_schema_settings(raw: Mapping[str, Any]) -> SchemaSettings:
    """Validate ``schemas: {crdDirs: [...], skipKinds: [...]}``; a mistake is a ConfigError."""
    where = "gitops.yaml: schemas"
    unknown = sorted(str(k) for k in set(raw) - _SCHEMAS_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(_SCHEMAS_KEYS))}"
        )
    crd_dirs = raw.get("crdDirs")
    if crd_dirs is not None and not (
        isinstance(crd_dirs, list)
        and all(isinstance(d, str) and d and not d.startswith("/") for d in crd_dirs)
    ):
        raise ConfigError(f"{where}.crdDirs must be a list of repo-relative folders")
    skip = raw.get("skipKinds", [])
    if not isinstance(skip, list) or not all(isinstance(k, str) for k in skip):
        raise ConfigError(f'{where}.skipKinds must be a list like ["example.com/v1/Widget"]')
    bad = [k for k in skip if not _KIND_ID.match(k)]
    if bad:
        raise ConfigError(
            f"{where}.skipKinds: {bad[0]!r} is not <apiVersion>/<Kind> "
            '(e.g. "example.com/v1/Widget", "v1/ConfigMap")'
        )
    dirs = tuple(d.rstrip("/") for d in crd_dirs) if crd_dirs is not None else DEFAULT_CRD_DIRS
    return SchemaSettings(
        crd_dirs=dirs,
        crd_dirs_explicit=crd_dirs is not None,
        skip_kinds=frozenset(skip),
    )


# --------------------------------------------------------------------------------------------
# Built-in schemas from kubernetes-validate


@dataclass(frozen=True)
class SchemaPackage:
    """One Kubernetes version's folder of the kubernetes-validate package."""

    directory: Path
    package_version: str
    kubernetes_version: str


def available_kubernetes_versions() -> list[str]:
    """Minor versions ("1.33") with strict schemas in the installed kubernetes-validate."""
    root = _package_root() / "kubernetes-json-schema"
    found = []
    for entry in root.iterdir() if root.is_dir() else ():
        match = re.fullmatch(r"v1\.(\d+)\.0-local-strict", entry.name)
        if match:
            found.append(int(match.group(1)))
    return [f"1.{minor}" for minor in sorted(found)]


def find_schema_package(kubernetes_version: str) -> SchemaPackage:
    """The strict schema folder for exactly ``kubernetes_version``: an older or newer version's
    schemas would silently accept or reject fields the target cluster treats otherwise."""
    if not re.fullmatch(r"1\.\d+", kubernetes_version):
        raise SchemaError(f'Kubernetes version must look like "1.33", got {kubernetes_version!r}')
    directory = _package_root() / "kubernetes-json-schema" / f"v{kubernetes_version}.0-local-strict"
    if not (directory / "_definitions.json").is_file():
        raise SchemaError(
            f"no schemas for Kubernetes {kubernetes_version} in kubernetes-validate "
            f"{_package_version()}; available: {', '.join(available_kubernetes_versions())}"
        )
    return SchemaPackage(directory, _package_version(), kubernetes_version)


def _package_root() -> Path:
    # find_spec locates the package without importing it: its __init__ imports jsonschema,
    # referencing and packaging, ~100 ms we do not need on the fast path.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError("the kubernetes-validate package is not installed (pip install it)")
    return Path(next(iter(spec.submodule_search_locations)))


def _package_version() -> str:
    # importlib.metadata costs ~60 ms of imports; the package keeps its version in version.py.
    text = (_package_root() / "version.py").read_text(encoding="utf-8")
    match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", text)
    return match.group(1) if match else "unknown"


def builtin_schema_file(api_version: str, kind: str) -> str:
    """kubernetes-validate's file naming: ``<kind>-<first label of the group>-<version>.json``
    (``rbac.authorization.k8s.io/v1`` Role -> ``role-rbac-v1.json``; core ``v1`` -> ``<kind>-v1``).
    """
    group, _, version = api_version.rpartition("/")
    prefix = f"{group.split('.', 1)[0]}-" if group else ""
    return f"{kind.lower()}-{prefix}{version}.json"


# --------------------------------------------------------------------------------------------
# Schema transformation: self-contained, Kubernetes quirks made explicit


def _builtin_effective_schema(
    package: SchemaPackage, filename: str, definitions: Callable[[], dict[str, Any]]
) -> tuple[list[str], dict[str, Any]] | None:
    """(["group/version/Kind", ...], self-contained schema) or None if there is no such file."""
    path = package.directory / filename
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    gvks = [
        f"{g['group']}/{g['version']}/{g['kind']}" if g["group"] else f"{g['version']}/{g['kind']}"
        for g in raw.get("x-kubernetes-group-version-kind", [])
    ]
    defs = definitions()
    schema = _strip_annotations(raw)
    schema["$defs"] = _closure(schema, defs)
    schema["$schema"] = _DRAFT
    return gvks, schema


def _strip_annotations(node: Any, names: bool = False) -> Any:
    """Drop documentation keys; ``names`` marks a map of field names (``properties``), whose
    keys are kept whatever they are (a CRD's JSONSchemaProps has a field named ``description``).
    ``format: int32``/``int64`` become bounds: the API server's decoder rejects an integer
    field out of its Go type's range, which the published schemas only hint at."""
    if isinstance(node, dict):
        stripped = {
            key: _strip_annotations(value, names=not names and key in _NAME_MAPS)
            for key, value in node.items()
            if names or (key not in _ANNOTATION_KEYS and not key.startswith("x-kubernetes-"))
        }
        bits = _INT_FORMATS.get(str(node.get("format"))) if not names else None
        if bits is not None and "integer" in _types(node.get("type")):
            stripped.setdefault("minimum", -(2 ** (bits - 1)))
            stripped.setdefault("maximum", 2 ** (bits - 1) - 1)
        return stripped
    if isinstance(node, list):
        return [_strip_annotations(item) for item in node]
    return node


_INT_FORMATS = {"int32": 32, "int64": 64}


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _closure(schema: dict[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """The definitions ``schema`` reaches, with every $ref rewritten to a local ``#/$defs/``.

    A Deployment reaches ~110 of the ~700 definitions; compiling only those keeps the generated
    validator (and its cache file) small.
    """
    out: dict[str, Any] = {}
    pending: list[Any] = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and "/$defs/" in ref:
                name = ref.rsplit("/", 1)[1]
                node["$ref"] = f"#/$defs/{name}"
                if name not in out:
                    out[name] = _replacement_definition(name) or _strip_annotations(defs[name])
                    pending.append(out[name])
            pending.extend(v for k, v in node.items() if k != "$ref")
    return out


def _replacement_definition(name: str) -> dict[str, Any] | None:
    # The published definitions say oneOf[string, number]: a bad value then fails with "is not
    # valid under any of the given schemas". One type list with a pattern (which JSON Schema
    # applies to strings only) accepts the same values, rejects "abc" and reports it plainly.
    if name == _QUANTITY_DEF:
        return {"type": ["string", "number", "null"], "pattern": QUANTITY_PATTERN}
    if name == _INT_OR_STRING_DEF:
        return {"type": ["string", "integer", "null"]}
    return None


def crd_effective_schema(
    openapi: Mapping[str, Any], api_version: str, kind: str, object_meta: Mapping[str, Any]
) -> dict[str, Any]:
    """JSON Schema for one served version of a CRD, as strict as the API server's field
    validation: unknown fields are errors except under ``x-kubernetes-preserve-unknown-fields``.

    ``object_meta`` is the built-in schema of ``metadata`` (with its ``$defs``): the API server
    validates a custom resource's metadata as ObjectMeta whatever the CRD says about it.
    """
    root = _convert_openapi(openapi, in_combinator=False)
    properties = root.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "enum": [api_version]}
    properties["kind"] = {"type": "string", "enum": [kind]}
    properties["metadata"] = {"$ref": f"#/$defs/{_OBJECT_META_DEF}"}
    root["$defs"] = dict(object_meta)
    root["$schema"] = _DRAFT
    return root


def _convert_openapi(node: Mapping[str, Any], in_combinator: bool) -> dict[str, Any]:
    """Structural-schema OpenAPI v3 (as CRDs hold it) to JSON Schema draft 7.

    Facts from the Kubernetes docs "Extend the Kubernetes API with CustomResourceDefinitions":
    a field not in ``properties`` is pruned (so, in strict validation, unknown) unless the object
    has ``additionalProperties`` or ``x-kubernetes-preserve-unknown-fields: true``;
    ``x-kubernetes-int-or-string`` allows an integer or a string; ``nullable`` allows null;
    ``x-kubernetes-embedded-resource`` implies apiVersion, kind and metadata.
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATION_KEYS or key.startswith("x-kubernetes-") or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: _convert_openapi(sub, False) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _convert_openapi(value, in_combinator=key == "not")
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_convert_openapi(branch, True) for branch in value]
        elif key == "pattern" and isinstance(value, str):
            # A Go regular expression: checked with RE2 through a custom format (both JSON
            # Schema libraries would compile it with Python's re, which rejects some of them).
            out["format"] = RE2_FORMAT_PREFIX + value
        else:
            out[key] = value
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    bits = _INT_FORMATS.get(str(node.get("format")))
    if bits is not None and "integer" in _types(node.get("type")):
        out.setdefault("minimum", -(2 ** (bits - 1)))
        out.setdefault("maximum", 2 ** (bits - 1) - 1)
    if node.get("x-kubernetes-int-or-string") is True or node.get("format") == "int-or-string":
        # Both markers come with anyOf[integer, string] branches in generated CRDs (or none):
        # the type list is what matters, branches only repeat it.
        out["type"] = ["integer", "string"]
    if node.get("x-kubernetes-embedded-resource") is True and not preserve:
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
    if node.get("nullable") is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    # Branches of allOf/anyOf/oneOf may only constrain what the parent declares (structural
    # schema rule): closing them would reject fields the parent allows.
    is_object = out.get("type") == "object" or "properties" in out
    if is_object and not in_combinator and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


# --------------------------------------------------------------------------------------------
# Compiled validators


@dataclass
class _CompiledKind:
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
                    messages = sorted(set(messages), key=_message_sort_key)
                    messages = messages[:MAX_ERRORS_PER_DOCUMENT]
                    messages.append(
                        f"(more errors not shown: at most {MAX_ERRORS_PER_DOCUMENT} per document)"
                    )
                    return messages
            if messages:
                return sorted(set(messages), key=_message_sort_key)
            # The two libraries disagree (should not happen: same schema, same draft); never
            # let an object pass that the fast path rejected.
            path = (fast_error.name or "data").removeprefix("data").lstrip(".") or "(root)"
            return [f"{path}: {fast_error.message}"]

    def _slow_validator(self) -> jsonschema.protocols.Validator:
        if self._slow is None:
            import jsonschema

            self._slow = jsonschema.Draft7Validator(
                json.loads(self.schema_text), format_checker=_re2_format_checker()
            )
        return self._slow


def _compile(schema: dict[str, Any]) -> tuple[str, CodeType]:
    import fastjsonschema

    # use_default=False: fastjsonschema would otherwise write defaults into the caller's dict.
    # Every `format` of the published schemas is stripped (see _ANNOTATION_KEYS): the only
    # formats left are the RE2 patterns of CRDs, served by _RE2_FORMATS.
    code = fastjsonschema.compile_to_code(
        schema,
        formats=_RE2_FORMATS,
        use_default=False,
        use_formats=True,
        detailed_exceptions=False,
    )
    return json.dumps(schema, sort_keys=True), compile(code, "<gitops-schema>", "exec")


def _load_code(code: CodeType) -> Callable[[Any], Any]:
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # our own generated validator, from fastjsonschema
    validate: Callable[..., Any] = namespace["validate"]
    return functools.partial(validate, custom_formats=_RE2_FORMATS)


# --------------------------------------------------------------------------------------------
# Go regular expressions (CRD patterns)


@functools.lru_cache(maxsize=4096)
def re2_matcher(pattern: str) -> Callable[[str], bool]:
    """``search`` with RE2 semantics (what the API server's Go regexp does with a CRD's
    ``pattern``). Without the google-re2 package, Python's re is used and a pattern it cannot
    compile is not checked, with one warning naming the package to install."""
    try:
        import re2  # type: ignore[import-untyped]
    except ImportError:
        return _python_matcher(pattern)
    try:
        compiled = re2.compile(pattern)
    except re2.error as exc:
        _warn_once(f"CRD pattern {pattern!r} is not a valid RE2 expression ({exc}): not checked")
        return lambda _value: True
    return lambda value: compiled.search(value) is not None


def _python_matcher(pattern: str) -> Callable[[str], bool]:
    try:
        fallback = re.compile(pattern)
    except re.error:
        _warn_once(
            f"CRD pattern {pattern!r} needs a Go/RE2 regex engine: not checked "
            "(pip install google-re2)"
        )
        return lambda _value: True
    return lambda value: fallback.search(value) is not None


@functools.cache
def _warn_once(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class _Re2Formats(dict[str, Callable[[str], bool]]):
    """fastjsonschema's ``formats``/``custom_formats``: every ``re2:<pattern>`` format name is
    known, and maps to its RE2 matcher."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.startswith(RE2_FORMAT_PREFIX)

    def __missing__(self, name: str) -> Callable[[str], bool]:
        if not name.startswith(RE2_FORMAT_PREFIX):
            raise KeyError(name)
        matcher = re2_matcher(name[len(RE2_FORMAT_PREFIX) :])
        self[name] = matcher
        return matcher


_RE2_FORMATS = _Re2Formats()


def _re2_format_checker() -> jsonschema.FormatChecker:
    import jsonschema

    class Re2FormatChecker(jsonschema.FormatChecker):
        def check(self, instance: object, format: str) -> None:
            if not format.startswith(RE2_FORMAT_PREFIX) or not isinstance(instance, str):
                return
            if not _RE2_FORMATS[format](instance):
                raise jsonschema.exceptions.FormatError(
                    f"{instance!r} does not match {format[4:]!r}"
                )

    return Re2FormatChecker(formats=())


class _DiskCache:
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
    # Any edit of the transformation code below must invalidate cached validators; hashing this
    # module's source makes that automatic instead of relying on a version someone must bump.
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


_TRANSFORM_DIGEST = _source_digest()


def default_cache_dir() -> Path:
    from gitops.cache import user_cache_root

    return user_cache_root() / "schemas"


# --------------------------------------------------------------------------------------------
# The validator


@dataclass(frozen=True)
class _CrdVersion:
    kind_id: str
    source: str  # where the CRD came from, for duplicate-definition messages
    openapi: dict[str, Any]


class SchemaValidator:
    """Validates Kubernetes objects against the schemas of one Kubernetes minor version.

    Thread-compatible, not thread-safe: compile caches are plain dicts.
    """

    def __init__(
        self,
        kubernetes_version: str,
        crd_files: Sequence[Path] = (),
        skip_kinds: Iterable[str] = (),
        cache_dir: Path | None = None,
        use_bundled_crds: bool = True,
        root: Path | None = None,
    ) -> None:
        """``crd_files``: extra CRD manifests (they override bundled CRDs of the same kind);
        ``cache_dir``: where compiled validators are kept (None: in memory only);
        ``root``: paths in messages are shown relative to it."""
        self.package = find_schema_package(kubernetes_version)
        self.kubernetes_version = kubernetes_version
        self.skip_kinds = frozenset(skip_kinds)
        self._cache = _DiskCache(cache_dir)
        self._compiled: dict[str, _CompiledKind | None] = {}
        self._definitions: dict[str, Any] | None = None
        self._crds: dict[str, _CrdVersion] = {}
        bundled = sorted(BUNDLED_SCHEMAS.glob("*.yaml")) if use_bundled_crds else []
        for path in bundled:
            self._add_crd_file(path, BUNDLED_SCHEMAS.parent, replace_ok=False)
        user: dict[str, _CrdVersion] = {}
        for path in crd_files:
            for crd in _read_crd_file(path, root):
                if crd.kind_id in user:
                    raise SchemaError(
                        f"{crd.source}: {crd.kind_id} is also defined in {user[crd.kind_id].source}"
                    )
                user[crd.kind_id] = crd
        self._crds.update(user)

    @classmethod
    def for_repo(
        cls,
        repo: Path,
        config: RepoConfig,
        kubernetes_version: str | None = None,
        cache_dir: Path | bool | None = True,
    ) -> SchemaValidator:
        """Validator configured by gitops.yaml: version, ``schemas.crdDirs``, ``skipKinds``.

        ``cache_dir=True`` means the user cache directory.
        """
        settings = parse_schema_settings(config.schemas)
        crd_files: list[Path] = []
        for rel in settings.crd_dirs:
            folder = repo / rel
            if not folder.is_dir():
                if settings.crd_dirs_explicit:
                    raise ConfigError(f"gitops.yaml: schemas.crdDirs: {rel}/ is not a folder")
                continue
            crd_files += sorted(
                p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml", ".json")
            )
        return cls(
            kubernetes_version or config.kubernetes_version,
            crd_files=crd_files,
            skip_kinds=settings.skip_kinds,
            cache_dir=default_cache_dir() if cache_dir is True else cache_dir or None,
            root=repo,
        )

    def add_crd_object(self, body: Mapping[str, Any], where: str) -> list[str]:
        """Use a CRD found in the input itself (a ``setup/`` folder, the same render) for the
        custom resources next to it; returns its problems instead of raising, so one bad CRD
        is reported like any invalid document."""
        try:
            versions = _crd_versions(body, where)
        except SchemaError as exc:
            return [str(exc)]
        for crd in versions:
            self._crds[crd.kind_id] = crd
            self._compiled.pop(crd.kind_id, None)
        return []

    def kinds_with_crd(self) -> list[str]:
        return sorted(self._crds)

    def is_skipped(self, api_version: str, kind: str) -> bool:
        return f"{api_version}/{kind}" in self.skip_kinds

    def validate(self, body: Mapping[str, Any]) -> list[str]:
        """Every problem of one object as ``<field path>: <problem>``; [] when valid or skipped.

        Problems with the object's identity (no apiVersion, kind or metadata.name) come first
        and stop there: without them no schema can be chosen.
        """
        identity = identity_problems(body)
        if identity:
            return identity
        api_version, kind = body["apiVersion"], body["kind"]
        if self.is_skipped(api_version, kind):
            return []
        compiled = self._compiled_kind(api_version, kind)
        if compiled is None:
            return [
                f"no schema for {api_version}/{kind} (Kubernetes {self.kubernetes_version}); "
                "add its CRD to a schemas.crdDirs folder or list it in schemas.skipKinds"
            ]
        return compiled.errors(body)

    # -- compilation ---------------------------------------------------------------------

    def _compiled_kind(self, api_version: str, kind: str) -> _CompiledKind | None:
        kind_id = f"{api_version}/{kind}"
        if kind_id not in self._compiled:
            crd = self._crds.get(kind_id)
            self._compiled[kind_id] = (
                self._compile_crd(crd) if crd is not None else self._compile_builtin(kind_id)
            )
        return self._compiled[kind_id]

    def _compile_builtin(self, kind_id: str) -> _CompiledKind | None:
        api_version, _, kind = kind_id.rpartition("/")
        filename = builtin_schema_file(api_version, kind)
        key = self._cache.key(
            "builtin", self.package.package_version, self.kubernetes_version, filename
        )
        cached = self._cache.get(key)
        if cached is None:
            built = _builtin_effective_schema(self.package, filename, self._load_definitions)
            if built is None:
                return None
            gvks, schema = built
            schema_text, code = _compile(schema)
            self._cache.put(key, gvks, schema_text, code)
            cached = gvks, schema_text, code
        gvks, schema_text, code = cached
        # The file name drops the group's domain: "apps.example.com/v1" Deployment maps to
        # deployment-apps-v1.json, which must not validate it.
        if kind_id not in gvks:
            return None
        return _CompiledKind(kind_id, schema_text, _load_code(code))

    def _compile_crd(self, crd: _CrdVersion) -> _CompiledKind:
        openapi_text = json.dumps(crd.openapi, sort_keys=True)
        key = self._cache.key(
            "crd",
            self.package.package_version,
            self.kubernetes_version,
            crd.kind_id,
            openapi_text,
        )
        cached = self._cache.get(key)
        if cached is None:
            api_version, _, kind = crd.kind_id.rpartition("/")
            meta = {"$ref": f"#/$defs/{_OBJECT_META_DEF}"}
            object_meta = _closure(meta, self._load_definitions())
            try:
                schema = crd_effective_schema(crd.openapi, api_version, kind, object_meta)
                schema_text, code = _compile(schema)
            except Exception as exc:  # fastjsonschema's definition errors have no common base
                raise SchemaError(f"{crd.source}: unusable openAPIV3Schema: {exc}") from exc
            self._cache.put(key, [crd.kind_id], schema_text, code)
            cached = [crd.kind_id], schema_text, code
        _gvks, schema_text, code = cached
        return _CompiledKind(crd.kind_id, schema_text, _load_code(code))

    def _load_definitions(self) -> dict[str, Any]:
        # 1.4 MB of JSON, ~20 ms: loaded only when a kind is compiled without a cache hit.
        if self._definitions is None:
            path = self.package.directory / "_definitions.json"
            self._definitions = json.loads(path.read_text(encoding="utf-8"))["$defs"]
        return self._definitions

    def _add_crd_file(self, path: Path, root: Path | None, replace_ok: bool) -> None:
        for crd in _read_crd_file(path, root):
            if crd.kind_id in self._crds and not replace_ok:
                raise SchemaError(
                    f"{crd.source}: {crd.kind_id} is also defined in "
                    f"{self._crds[crd.kind_id].source}"
                )
            self._crds[crd.kind_id] = crd


def identity_problems(body: Mapping[str, Any]) -> list[str]:
    """What keeps an object from being identified: apiVersion, kind, metadata.name."""
    problems = []
    for key in ("apiVersion", "kind"):
        value = body.get(key)
        if not isinstance(value, str) or not value:
            problems.append(f"{key}: required, expected a non-empty string")
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        problems.append("metadata: required, expected a mapping with a name")
    elif not (isinstance(metadata.get("name"), str) and metadata["name"]) and not isinstance(
        metadata.get("generateName"), str
    ):
        problems.append("metadata.name: required, expected a non-empty string")
    return problems


def _read_crd_file(path: Path, root: Path | None) -> list[_CrdVersion]:
    shown = _display_path(path, root)
    try:
        documents = load_documents(path.read_text(encoding="utf-8"), shown)
    except OSError as exc:
        raise SchemaError(f"{shown}: cannot read CRD file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{shown}: CRD file is not UTF-8 text (byte offset {exc.start})") from exc
    except YamlError as exc:
        raise SchemaError(f"CRD file: {exc.problems[0]}") from exc
    crds = []
    for document in documents:
        where = f"{shown}:{document.line}"
        body = document.body
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if kind != "CustomResourceDefinition" or api_version != "apiextensions.k8s.io/v1":
            raise SchemaError(
                f"{where}: expected an apiextensions.k8s.io/v1 CustomResourceDefinition, "
                f"got {api_version}/{kind}"
            )
        crds += _crd_versions(body, where)
    return crds


def _crd_versions(body: Mapping[str, Any], where: str) -> list[_CrdVersion]:
    spec = body.get("spec")
    if not isinstance(spec, dict):
        raise SchemaError(f"{where}: CRD has no spec")
    group = spec.get("group")
    kind = (spec.get("names") or {}).get("kind") if isinstance(spec.get("names"), dict) else None
    versions = spec.get("versions")
    if not isinstance(group, str) or not isinstance(kind, str) or not isinstance(versions, list):
        raise SchemaError(f"{where}: CRD needs spec.group, spec.names.kind and spec.versions")
    found = []
    for version in versions:
        if not isinstance(version, dict) or not version.get("served", False):
            continue  # unserved versions cannot be applied, so there is nothing to validate
        name = version.get("name")
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(name, str) or not isinstance(schema, dict):
            raise SchemaError(
                f"{where}: served version {name!r} of {kind} has no schema.openAPIV3Schema"
            )
        found.append(_CrdVersion(f"{group}/{name}/{kind}", where, schema))
    return found


def _display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


# --------------------------------------------------------------------------------------------
# Error messages


def format_path(path: Iterable[str | int]) -> str:
    """``spec.containers[0].env`` for a jsonschema error path; odd keys are quoted
    (``metadata.labels["app.kubernetes.io/name"]``)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "(root)"


_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "mapping",
    type(None): "null",
}


def format_error(error: jsonschema.ValidationError) -> list[str]:
    """One jsonschema error as our message lines (an additionalProperties error naming several
    unknown fields becomes one line per field, each with its own path)."""
    path = list(error.absolute_path)
    where = format_path(path)
    value = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    rule: Any = error.validator_value
    if error.validator == "additionalProperties" and isinstance(value, dict):
        allowed = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        extra = [
            k for k in value if k not in allowed and not any(re.search(p, str(k)) for p in patterns)
        ]
        return [f"{format_path([*path, str(k)])}: unknown field" for k in extra]
    if error.validator == "required" and isinstance(rule, list):
        missing = [k for k in rule if isinstance(value, dict) and k not in value]
        return [f"{format_path([*path, k])}: required field missing" for k in missing]
    if error.validator == "type":
        types = [str(t) for t in (rule if isinstance(rule, list) else [rule]) if t != "null"]
        got = _TYPE_NAMES.get(type(value), type(value).__name__)
        shown = f" {_short(value)}" if not isinstance(value, dict | list) else ""
        return [f"{where}: expected {' or '.join(types)}, got {got}{shown}"]
    if error.validator == "format" and str(rule).startswith(RE2_FORMAT_PREFIX):
        return [f"{where}: {_short(value)} does not match {rule[len(RE2_FORMAT_PREFIX) :]!r}"]
    if error.validator == "pattern" and rule == QUANTITY_PATTERN:
        return [f"{where}: {_short(value)} does not match the quantity format (100m, 0.5, 2Gi)"]
    if error.validator == "pattern":
        return [f"{where}: {_short(value)} does not match {rule!r}"]
    if error.validator == "enum":
        options = ", ".join(_short(v) for v in rule if v is not None)
        return [f"{where}: {_short(value)} is not one of {options}"]
    if error.validator in ("anyOf", "oneOf") and error.context:
        # Report the branch that got furthest: the deepest error is usually the real mistake.
        import jsonschema

        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            return format_error(best)
    return [f"{where}: {_first_line(error.message)}"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else text


def _message_sort_key(message: str) -> tuple[tuple[int, str | int], ...]:
    # Numeric order for list indexes: containers[2] before containers[10].
    parts: Iterator[str] = iter(re.split(r"\[(\d+)\]", message.split(": ", 1)[0]))
    key: list[tuple[int, str | int]] = []
    for i, part in enumerate(parts):
        key.append((0, int(part)) if i % 2 else (1, part))
    key.append((1, message))
    return tuple(key)
