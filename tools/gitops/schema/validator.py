"""The validator: one Kubernetes minor version's built-in schemas plus CRDs, compiled per kind
on first use."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gitops.config import RepoConfig
from gitops.errors import ConfigError
from gitops.k8s.apis import removed_api
from gitops.schema.builtin import builtin_schema_file, find_schema_package
from gitops.schema.compiled import (
    CompiledKind,
    DiskCache,
    compile_schema,
    default_cache_dir,
    load_code,
)
from gitops.schema.crds import BUNDLED_SCHEMAS, CrdVersion, crd_versions, read_crd_file
from gitops.schema.settings import SchemaError, parse_schema_settings
from gitops.schema.transform import (
    OBJECT_META_DEF,
    builtin_effective_schema,
    closure,
    crd_effective_schema,
)


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
        self._cache = DiskCache(cache_dir)
        self._compiled: dict[str, CompiledKind | None] = {}
        self._definitions: dict[str, Any] | None = None
        # The repository's CRDs and the input's, by kind; ours (bundled) apart, read the
        # first time a custom resource is compiled: the upstream validator reads those files
        # itself, so a run it judges never parses them here. No bundled kind is a built-in one
        # (tests/unit/schema/test_validator.py), so is_builtin needs only _crds.
        self._crds: dict[str, CrdVersion] = _read_crd_files(crd_files, root)
        self._bundled_files = sorted(BUNDLED_SCHEMAS.glob("*.yaml")) if use_bundled_crds else []
        self._bundled: dict[str, CrdVersion] | None = None
        self._builtin: dict[str, bool] = {}

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
            versions = crd_versions(body, where)
        except SchemaError as exc:
            return [str(exc)]
        for crd in versions:
            self._crds[crd.kind_id] = crd
            self._compiled.pop(crd.kind_id, None)
            self._builtin.pop(crd.kind_id, None)
        return []

    def crd_documents(self) -> list[Mapping[str, Any] | Path]:
        """Every CRD in use, each once, in the order the upstream validator is to be taught
        them: our bundled CRD files (it reads them itself), then the repository's and the
        input's CRDs, which replace a bundled CRD of the same kind as a later create would."""
        seen: dict[int, Mapping[str, Any]] = {}
        for crd in self._crds.values():
            seen.setdefault(id(crd.crd), crd.crd)
        return [*self._bundled_files, *(body for body in seen.values() if body)]

    def kinds_with_crd(self) -> list[str]:
        return sorted(self._crd_table())

    def is_builtin(self, api_version: str, kind: str) -> bool:
        """Whether this version has a built-in schema for the kind (not a CRD's)."""
        key = f"{api_version}/{kind}"
        if key not in self._builtin:
            path = self.package.directory / builtin_schema_file(api_version, kind)
            self._builtin[key] = key not in self._crds and path.is_file()
        return self._builtin[key]

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
            minor = int(self.kubernetes_version.split(".")[1])
            removed = removed_api(api_version, kind, minor)
            if removed is not None:
                # A removed built-in (extensions/v1beta1 Deployment, PodSecurityPolicy): its
                # removal and replacement, never CRD advice (api-removed says the same).
                return [removed.removal_message(minor)]
            served = self.served_versions(api_version, kind)
            if served:
                # A built-in kind at a version this release does not serve (e.g. a removed beta,
                # which api-removed also reports): CRD advice would mislead.
                return [
                    f"{api_version} {kind} is not served by Kubernetes "
                    f"{self.kubernetes_version}, which serves {kind} as {', '.join(served)}"
                ]
            return [
                f"no schema for {api_version}/{kind} (Kubernetes {self.kubernetes_version}); "
                "add its CRD to a schemas.crdDirs folder or list it in schemas.skipKinds"
            ]
        return compiled.errors(body)

    def served_versions(self, api_version: str, kind: str) -> list[str]:
        """The apiVersions of the same group under which this Kubernetes version has a
        built-in schema for ``kind`` (kubernetes-validate's file naming), sorted."""
        group = api_version.rpartition("/")[0]
        stem = builtin_schema_file(api_version, kind).rsplit("-", 1)[0]
        found = []
        for path in self.package.directory.glob(f"{stem}-*.json"):
            # The file name keeps only the group's first label: the schema says the group.
            schema = json.loads(path.read_text(encoding="utf-8"))
            for gvk in schema.get("x-kubernetes-group-version-kind") or []:
                if gvk.get("group") == group and gvk.get("kind") == kind:
                    version = str(gvk.get("version"))
                    found.append(f"{group}/{version}" if group else version)
        return sorted(set(found))

    # -- compilation ---------------------------------------------------------------------

    def _compiled_kind(self, api_version: str, kind: str) -> CompiledKind | None:
        kind_id = f"{api_version}/{kind}"
        if kind_id not in self._compiled:
            crd = self._crds.get(kind_id)
            if crd is None and not self.is_builtin(api_version, kind):
                crd = self._crd_table().get(kind_id)  # ours: read now
            self._compiled[kind_id] = (
                self._compile_crd(crd) if crd is not None else self._compile_builtin(kind_id)
            )
        return self._compiled[kind_id]

    def _compile_builtin(self, kind_id: str) -> CompiledKind | None:
        api_version, _, kind = kind_id.rpartition("/")
        filename = builtin_schema_file(api_version, kind)
        key = self._cache.key(
            "builtin", self.package.package_version, self.kubernetes_version, filename
        )
        cached = self._cache.get(key)
        if cached is None:
            built = builtin_effective_schema(self.package, filename, self._load_definitions)
            if built is None:
                return None
            gvks, schema = built
            schema_text, code = compile_schema(schema)
            self._cache.put(key, gvks, schema_text, code)
            cached = gvks, schema_text, code
        gvks, schema_text, code = cached
        # The file name drops the group's domain: "apps.example.com/v1" Deployment maps to
        # deployment-apps-v1.json, which must not validate it.
        if kind_id not in gvks:
            return None
        return CompiledKind(kind_id, schema_text, load_code(code))

    def _compile_crd(self, crd: CrdVersion) -> CompiledKind:
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
            meta = {"$ref": f"#/$defs/{OBJECT_META_DEF}"}
            object_meta = closure(meta, self._load_definitions())
            try:
                schema = crd_effective_schema(crd.openapi, api_version, kind, object_meta)
                schema_text, code = compile_schema(schema)
            except Exception as exc:  # fastjsonschema's definition errors have no common base
                raise SchemaError(f"{crd.source}: unusable openAPIV3Schema: {exc}") from exc
            self._cache.put(key, [crd.kind_id], schema_text, code)
            cached = [crd.kind_id], schema_text, code
        _gvks, schema_text, code = cached
        return CompiledKind(crd.kind_id, schema_text, load_code(code))

    def _load_definitions(self) -> dict[str, Any]:
        # 1.4 MB of JSON, ~20 ms: loaded only when a kind is compiled without a cache hit.
        if self._definitions is None:
            path = self.package.directory / "_definitions.json"
            self._definitions = json.loads(path.read_text(encoding="utf-8"))["$defs"]
        return self._definitions

    def _crd_table(self) -> dict[str, CrdVersion]:
        """Every CRD's kinds: the bundled ones, replaced by the repository's and the input's."""
        if self._bundled is None:
            self._bundled = _read_crd_files(self._bundled_files, BUNDLED_SCHEMAS.parent)
        return {**self._bundled, **self._crds}


def _read_crd_files(paths: Iterable[Path], root: Path | None) -> dict[str, CrdVersion]:
    """The kinds the CRDs of ``paths`` define; a kind defined twice is an error."""
    found: dict[str, CrdVersion] = {}
    for path in paths:
        for crd in read_crd_file(path, root):
            if crd.kind_id in found:
                raise SchemaError(
                    f"{crd.source}: {crd.kind_id} is also defined in {found[crd.kind_id].source}"
                )
            found[crd.kind_id] = crd
    return found


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
