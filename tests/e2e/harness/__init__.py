"""The e2e harness: small modules with pure functions (unit-tested in tests/unit/e2e/) and the
thin cluster-facing code the tests in tests/e2e/test_*.py call.

    tools        find docker/podman, kind, kubectl; the preflight message; run commands
    cluster      kind config, kind create/delete/load commands, cluster lifecycle
    images       content-hash tags and the docker build commands
    deploy       the e2e kustomization around the real dev overlays, render and apply
    expectations probe budgets and PDB/HPA expectations, computed from rendered manifests
    wait         polling with timeouts and backoff (injectable clock), samplers
    watchers     ready-pod tracking from watch events
    portforward  `kubectl port-forward` to a Service, with the local port parsed
    argocd       Argo CD install steps and the test's view of argocd/ objects
    gitserver    snapshot of the working tree served by an in-cluster git daemon
    artifacts    what to dump into e2e-artifacts/ when a test fails
    kube         the official kubernetes client, and the readiness facts read from it
"""
