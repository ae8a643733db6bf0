"""Rules whose findings the check pipeline itself produces (they need more than resources)."""

from __future__ import annotations

from gitops.model import Severity
from gitops.policy import pipeline_rule

pipeline_rule(
    "render-failed",
    """An overlay does not render with kustomize.

    Argo CD shows the Application as ComparisonError and syncs nothing: every change behind it is
    stuck. Reported with kustomize's own message and the overlay's path.""",
)
pipeline_rule(
    "schema",
    """A rendered document is invalid for the target Kubernetes version's schema.

    Unknown fields, wrong types and duplicate keys are rejected by the API server at sync time
    (or, worse, silently dropped by client-side apply). Strict, offline, all errors at once.""",
)
pipeline_rule(
    "waiver-expired",
    """A waiver in policy/waivers.yaml is past its expiry date.

    Waivers are loans, not exemptions: an expired one fails the build so its owner revisits it.""",
)
pipeline_rule(
    "waiver-unused",
    """A waiver matches no finding.

    The problem it excused is gone (or the match is wrong): delete it so it cannot hide a future
    regression.""",
    severity=Severity.WARNING,
)
