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

from gitops.schema.builtin import (
    SchemaPackage,
    available_kubernetes_versions,
    builtin_schema_file,
    find_schema_package,
)
from gitops.schema.compiled import MAX_ERRORS_PER_DOCUMENT, default_cache_dir
from gitops.schema.crds import BUNDLED_SCHEMAS
from gitops.schema.formats import QUANTITY_PATTERN, RE2_FORMAT_PREFIX, re2_matcher
from gitops.schema.messages import format_error, format_path
from gitops.schema.settings import (
    DEFAULT_CRD_DIRS,
    SchemaError,
    SchemaSettings,
    parse_schema_settings,
)
from gitops.schema.transform import crd_effective_schema
from gitops.schema.validator import SchemaValidator, identity_problems

__all__ = [
    "BUNDLED_SCHEMAS",
    "DEFAULT_CRD_DIRS",
    "MAX_ERRORS_PER_DOCUMENT",
    "QUANTITY_PATTERN",
    "RE2_FORMAT_PREFIX",
    "SchemaError",
    "SchemaPackage",
    "SchemaSettings",
    "SchemaValidator",
    "available_kubernetes_versions",
    "builtin_schema_file",
    "crd_effective_schema",
    "default_cache_dir",
    "find_schema_package",
    "format_error",
    "format_path",
    "identity_problems",
    "parse_schema_settings",
    "re2_matcher",
]
