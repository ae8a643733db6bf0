"""Release edits: ``gitops set-image``, ``gitops promote`` and ``gitops status``.

The library behind the three commands, one module per job:

- :mod:`gitops.release.refs`: what a tag and a digest may look like, and the release errors;
- :mod:`gitops.release.yamledit`: a comment-preserving edit of one kustomization's ``images:``;
- :mod:`gitops.release.plan`: which overlay files change, and from what to what;
- :mod:`gitops.release.apply`: dry-run diff, atomic writes, the check, rollback, ``--commit``;
- :mod:`gitops.release.status`: every service's image per env.

    >>> plan = plan_promote(repo, config, "staging", "prod", services=["healthz"])
    >>> [c.line() for c in plan.changes]
    ['prod/healthz: ghcr.io/example-org/healthz 1.0.0 -> 1.0.1']
"""
