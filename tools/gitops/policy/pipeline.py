"""Rules whose findings the check pipeline itself produces (they need more than resources)."""

from __future__ import annotations

from gitops.model import Severity
from gitops.policy.engine import Param, pipeline_rule

pipeline_rule(
    "render-failed",
    """An overlay does not render with kustomize.

    Argo CD shows the Application as ComparisonError and syncs nothing: every change behind it is
    stuck. Reported with kustomize's own message and the overlay's path.""",
    remediation=(
        "Run kustomize build on the overlay and fix the error it names (kustomize's message is "
        "in the finding)."
    ),
)
pipeline_rule(
    "kustomization-duplicate-key",
    """A key is written twice in a kustomization or in a patch it applies.

    kustomize reads kustomization.yaml through YAML-to-JSON, which keeps the last of two equal
    keys and says nothing: a second ``resources:`` silently drops every resource of the first.
    A strategic-merge patch (a file or inline) keeps the first instead, a JSON 6902 patch the
    last. Either way one of the two lines has no effect while it reads as if it had. The message
    names both lines and the one kustomize reads (kubernetes-sigs/kustomize#5061).""",
    remediation="Keep one of the two keys: merge their values into it and delete the other.",
)
pipeline_rule(
    "kustomization-field-ignored",
    """A kustomization field is written in two spellings, and kustomize reads only one.

    kustomize matches field names case-insensitively (Go's encoding/json), so ``resources`` and
    ``Resources``, or ``newTag`` and ``newtag``, are one field; of two spellings in one mapping
    only the one that sorts last byte-wise is read and the other is ignored without a word.
    (A field kustomize does not know at all is refused by kustomize itself: render-failed.)""",
    remediation="Spell the field as kustomize documents it (resources, newTag...) and keep one.",
)
pipeline_rule(
    "schema",
    """A rendered document is invalid for the target Kubernetes version's schema.

    Unknown fields, wrong types and duplicate keys are rejected by the API server at sync time
    (or, worse, silently dropped by client-side apply). Strict, offline, all errors at once.""",
    remediation=(
        "Fix the field the message names for the target Kubernetes version (gitops validate "
        "prints the same)."
    ),
    params=(Param("kubernetesVersion", "the target Kubernetes minor version"),),
)
pipeline_rule(
    "schema-api",
    """A rendered document breaks a validation rule of the API server that no schema states.

    The API server's own validation rejects what the OpenAPI schemas accept: a workload whose
    selector does not match its template labels, invalid DNS names and label keys/values,
    duplicate container, port and volume names, volumeMounts naming no volume (a StatefulSet's
    claim templates count), negative counts (replicas, minReadySeconds, Job counts...),
    out-of-range ports, unknown enum values (imagePullPolicy, restartPolicy, protocol...), env
    vars with both value and valueFrom, a PDB with both minAvailable and maxUnavailable or over
    100%. Rules that changed between versions follow ``kubernetesVersion`` and gitops.yaml's
    ``featureGates`` (a Service named ``1web`` is valid from 1.36). The sync fails for the
    whole Application. ``gitops validate`` prints the same messages; probe rules are reported
    as ``probe-invalid`` and HPA bounds as ``hpa-bounds``.""",
    remediation="Fix the value the message names; the API server rejects the object as it is.",
    params=(Param("kubernetesVersion", "the target Kubernetes minor version"),),
)
pipeline_rule(
    "api-warning",
    """The API server accepts a rendered document but warns about it.

    kube-apiserver answers some creates with a warning (the registry strategy's
    WarningsOnCreate): a field that is ignored or deprecated, a value that will be rejected in a
    later release, a setting that does nothing on this kind. Argo CD syncs the object and shows
    the warning nowhere a reviewer looks. Reported only when the upstream validator judges
    (``make validator``; gitops.upstream), in the API server's words.""",
    remediation="Do what the warning asks; it names the field.",
    severity=Severity.WARNING,
    params=(Param("kubernetesVersion", "the target Kubernetes minor version"),),
)
pipeline_rule(
    "waiver-expired",
    """A waiver in policy/waivers.yaml is past its expiry date.

    Waivers are loans, not exemptions: an expired one fails the build so its owner revisits it.""",
    remediation="Fix the finding it waived, or renew the waiver with a new expiry and a reason.",
)
pipeline_rule(
    "waiver-unused",
    """A waiver matches no finding.

    The problem it excused is gone (or the match is wrong): delete it so it cannot hide a future
    regression.""",
    remediation="Delete the waiver from policy/waivers.yaml (or fix its match).",
    severity=Severity.WARNING,
)
