"""A hand-written corpus of the API server's semantic rules: one plausible human mistake per
document (and some valid documents that look wrong), across the cross-field validation a
schema cannot express: pod rules (probes, env, security context, tolerations, topology spread,
resources, volumes, init containers), Jobs and CronJobs, Ingress, Secrets, Services, HPAs,
NetworkPolicies and RBAC.

No case says what the API server will answer: the differential tests ask it. Each case is
written from the API's field documentation, not from the validation code, so the corpus is
not shaped by any validator's idea of the rules.

    >>> cases = semantic_corpus()
    >>> len({c.id for c in cases}) == len(cases)
    True
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tests.cluster.corpus import Mutant

Doc = dict[str, Any]
Edit = Callable[[Doc], None]


def _deployment() -> Doc:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.example/web:1.0",
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"cpu": "500m", "memory": "128Mi"},
                            },
                        }
                    ]
                },
            },
        },
    }


def _pod_spec(doc: Doc) -> Doc:
    spec: Doc = doc["spec"]["template"]["spec"]
    return spec


def _container(doc: Doc) -> Doc:
    container: Doc = _pod_spec(doc)["containers"][0]
    return container


def _job() -> Doc:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate"},
        "spec": {
            "backoffLimit": 2,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "migrate", "image": "registry.example/web:1.0"}],
                }
            },
        },
    }


def _cronjob() -> Doc:
    job = _job()
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report"},
        "spec": {"schedule": "*/15 * * * *", "jobTemplate": {"spec": job["spec"]}},
    }


def _ingress() -> Doc:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["web.example.org"], "secretName": "web-tls"}],
            "rules": [
                {
                    "host": "web.example.org",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def _service() -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 8080, "targetPort": "http"}],
        },
    }


def _secret() -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "type": "Opaque",
        "stringData": {"password": "not-a-real-one"},
    }


def _hpa() -> Doc:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def _network_policy() -> Doc:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-web"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": 8080}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
        },
    }


def _role() -> Doc:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    }


def _role_binding() -> Doc:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "web"}],
    }


def _pdb() -> Doc:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }


def _set(path: str, value: Any) -> Edit:
    """An edit setting a dotted path (list indexes as numbers), creating mappings on the way."""

    def edit(doc: Doc) -> None:
        keys: list[str | int] = [int(k) if k.isdigit() else k for k in path.split(".")]
        node: Any = doc
        for key in keys[:-1]:
            if isinstance(key, str) and key not in node:
                node[key] = {}
            node = node[key]
        node[keys[-1]] = value

    return edit


def _all(*edits: Edit) -> Edit:
    def edit(doc: Doc) -> None:
        for each in edits:
            each(doc)

    return edit


def _pod(path: str, value: Any) -> Edit:
    return _set("spec.template.spec." + path, value)


def _app(path: str, value: Any) -> Edit:
    return _set("spec.template.spec.containers.0." + path, value)


def _probe(**fields: Any) -> Edit:
    return _app("readinessProbe", {"httpGet": {"path": "/ready", "port": "http"}, **fields})


# (case, base document, edit). "valid-" cases look wrong to a careful reader but are meant to
# be accepted by the API (which the test does not assume: it only compares the two verdicts).
CASES: list[tuple[str, Callable[[], Doc], Edit]] = [
    # -- probes
    ("probe-two-handlers", _deployment, _probe(tcpSocket={"port": 8080})),
    ("probe-no-handler", _deployment, _app("readinessProbe", {"periodSeconds": 5})),
    ("probe-zero-period", _deployment, _probe(periodSeconds=0)),
    ("probe-negative-delay", _deployment, _probe(initialDelaySeconds=-5)),
    ("probe-readiness-success-2", _deployment, _probe(successThreshold=2)),
    (
        "probe-liveness-success-2",
        _deployment,
        _app("livenessProbe", {"httpGet": {"path": "/h", "port": 8080}, "successThreshold": 2}),
    ),
    ("probe-port-name-missing", _deployment, _probe(httpGet={"path": "/r", "port": "admin"})),
    ("probe-port-zero", _deployment, _probe(httpGet={"path": "/r", "port": 0})),
    ("probe-grace-on-readiness", _deployment, _probe(terminationGracePeriodSeconds=10)),
    ("probe-bad-scheme", _deployment, _probe(httpGet={"path": "/r", "port": 8080, "scheme": "h2"})),
    (
        "probe-header-bad-name",
        _deployment,
        _probe(
            httpGet={"path": "/r", "port": 8080, "httpHeaders": [{"name": "X Bad", "value": "1"}]}
        ),
    ),
    ("valid-probe-grpc", _deployment, _app("livenessProbe", {"grpc": {"port": 9090}})),
    # -- env
    ("env-name-empty", _deployment, _app("env", [{"name": "", "value": "x"}])),
    ("env-name-with-equals", _deployment, _app("env", [{"name": "A=B", "value": "x"}])),
    ("valid-env-name-dotted", _deployment, _app("env", [{"name": "app.mode", "value": "x"}])),
    ("valid-env-name-leading-digit", _deployment, _app("env", [{"name": "1A", "value": "x"}])),
    (
        "env-value-and-valuefrom",
        _deployment,
        _app(
            "env",
            [
                {
                    "name": "POD",
                    "value": "x",
                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                }
            ],
        ),
    ),
    (
        "env-fieldref-unsupported",
        _deployment,
        _app("env", [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeSelector"}}}]),
    ),
    (
        "env-secret-key-missing",
        _deployment,
        _app("env", [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "db"}}}]),
    ),
    (
        "env-resource-field-bad",
        _deployment,
        _app("env", [{"name": "C", "valueFrom": {"resourceFieldRef": {"resource": "gpu"}}}]),
    ),
    (
        "envfrom-bad-prefix",
        _deployment,
        _app("envFrom", [{"prefix": "A B", "configMapRef": {"name": "c"}}]),
    ),
    (
        "valid-env-duplicate-name",
        _deployment,
        _app("env", [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]),
    ),
    # -- security context
    (
        "sc-privileged-no-escalation",
        _deployment,
        _app("securityContext", {"privileged": True, "allowPrivilegeEscalation": False}),
    ),
    (
        "sc-cap-sys-admin-no-escalation",
        _deployment,
        _app(
            "securityContext",
            {"capabilities": {"add": ["SYS_ADMIN"]}, "allowPrivilegeEscalation": False},
        ),
    ),
    ("sc-negative-user", _deployment, _app("securityContext", {"runAsUser": -1})),
    (
        "sc-seccomp-localhost-no-profile",
        _deployment,
        _pod("securityContext", {"seccompProfile": {"type": "Localhost"}}),
    ),
    (
        "sc-seccomp-profile-on-default",
        _deployment,
        _pod(
            "securityContext",
            {"seccompProfile": {"type": "RuntimeDefault", "localhostProfile": "x.json"}},
        ),
    ),
    ("sc-bad-proc-mount", _deployment, _app("securityContext", {"procMount": "Masked2"})),
    (
        "sc-fsgroup-policy-bad",
        _deployment,
        _pod("securityContext", {"fsGroupChangePolicy": "Sometimes"}),
    ),
    (
        "sc-sysctl-bad-name",
        _deployment,
        _pod("securityContext", {"sysctls": [{"name": "net..x", "value": "1"}]}),
    ),
    (
        "valid-sc-restricted",
        _deployment,
        _app(
            "securityContext",
            {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        ),
    ),
    # -- tolerations, topology spread, affinity, scheduling
    (
        "toleration-exists-with-value",
        _deployment,
        _pod("tolerations", [{"key": "k", "operator": "Exists", "value": "v"}]),
    ),
    (
        "toleration-seconds-not-noexecute",
        _deployment,
        _pod(
            "tolerations",
            [
                {
                    "key": "k",
                    "operator": "Equal",
                    "value": "v",
                    "effect": "NoSchedule",
                    "tolerationSeconds": 30,
                }
            ],
        ),
    ),
    (
        "toleration-bad-key",
        _deployment,
        _pod("tolerations", [{"key": "bad key", "operator": "Exists"}]),
    ),
    (
        "toleration-no-key-equal",
        _deployment,
        _pod("tolerations", [{"operator": "Equal", "value": "x"}]),
    ),
    (
        "spread-max-skew-zero",
        _deployment,
        _pod(
            "topologySpreadConstraints",
            [
                {
                    "maxSkew": 0,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"app": "web"}},
                }
            ],
        ),
    ),
    (
        "spread-min-domains-anyway",
        _deployment,
        _pod(
            "topologySpreadConstraints",
            [
                {
                    "maxSkew": 1,
                    "minDomains": 2,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"app": "web"}},
                }
            ],
        ),
    ),
    (
        "spread-duplicate",
        _deployment,
        _pod(
            "topologySpreadConstraints",
            [
                {
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "DoNotSchedule",
                }
            ]
            * 2,
        ),
    ),
    (
        "spread-no-key",
        _deployment,
        _pod(
            "topologySpreadConstraints",
            [{"maxSkew": 1, "topologyKey": "", "whenUnsatisfiable": "DoNotSchedule"}],
        ),
    ),
    (
        "affinity-empty-term",
        _deployment,
        _pod(
            "affinity",
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}
                }
            },
        ),
    ),
    (
        "affinity-in-no-values",
        _deployment,
        _pod(
            "affinity",
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "zone", "operator": "In", "values": []}]}
                        ]
                    }
                }
            },
        ),
    ),
    (
        "antiaffinity-no-topology-key",
        _deployment,
        _pod(
            "affinity",
            {
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": ""}
                    ]
                }
            },
        ),
    ),
    (
        "affinity-weight-zero",
        _deployment,
        _pod(
            "affinity",
            {
                "podAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 0,
                            "podAffinityTerm": {
                                "labelSelector": {"matchLabels": {"app": "web"}},
                                "topologyKey": "zone",
                            },
                        }
                    ]
                }
            },
        ),
    ),
    ("priority-class-bad-name", _deployment, _pod("priorityClassName", "High_Priority")),
    ("grace-negative", _deployment, _pod("terminationGracePeriodSeconds", -1)),
    ("dns-none-no-config", _deployment, _pod("dnsPolicy", "None")),
    (
        "dns-too-many-nameservers",
        _deployment,
        _pod("dnsConfig", {"nameservers": ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"]}),
    ),
    ("hostname-uppercase", _deployment, _pod("hostname", "Web")),
    (
        "host-alias-bad-ip",
        _deployment,
        _pod("hostAliases", [{"ip": "999.1.1.1", "hostnames": ["a"]}]),
    ),
    ("host-port-without-host-network-mismatch", _deployment, _pod("hostNetwork", True)),
    ("node-name-bad", _deployment, _pod("nodeName", "Node_1")),
    ("node-selector-bad-key", _deployment, _pod("nodeSelector", {"bad key": "x"})),
    ("active-deadline-zero", _deployment, _pod("activeDeadlineSeconds", 0)),
    # -- resources
    (
        "requests-above-limits",
        _deployment,
        _app(
            "resources",
            {
                "requests": {"cpu": "1", "memory": "64Mi"},
                "limits": {"cpu": "500m", "memory": "128Mi"},
            },
        ),
    ),
    (
        "memory-request-above-limit",
        _deployment,
        _app("resources", {"requests": {"memory": "256Mi"}, "limits": {"memory": "128Mi"}}),
    ),
    ("resource-unknown-name", _deployment, _app("resources", {"requests": {"gpu": "1"}})),
    (
        "resource-hugepages-no-memory",
        _deployment,
        _app(
            "resources", {"requests": {"hugepages-2Mi": "2Mi"}, "limits": {"hugepages-2Mi": "2Mi"}}
        ),
    ),
    (
        "resource-extended-request-neq-limit",
        _deployment,
        _app(
            "resources",
            {"requests": {"example.com/dongle": "1"}, "limits": {"example.com/dongle": "2"}},
        ),
    ),
    (
        "resource-fractional-extended",
        _deployment,
        _app(
            "resources",
            {"requests": {"example.com/dongle": "500m"}, "limits": {"example.com/dongle": "500m"}},
        ),
    ),
    (
        "valid-limits-only",
        _deployment,
        _app("resources", {"limits": {"cpu": "1", "memory": "1Gi"}}),
    ),
    # -- ports
    ("port-zero", _deployment, _app("ports", [{"containerPort": 0}])),
    (
        "port-name-too-long",
        _deployment,
        _app("ports", [{"name": "http-metrics-x", "containerPort": 9}]),
    ),
    ("port-name-uppercase", _deployment, _app("ports", [{"name": "HTTP", "containerPort": 80}])),
    (
        "port-duplicate-name",
        _deployment,
        _app(
            "ports", [{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]
        ),
    ),
    (
        "valid-port-duplicate-number-protocols",
        _deployment,
        _app(
            "ports",
            [{"containerPort": 53, "protocol": "TCP"}, {"containerPort": 53, "protocol": "UDP"}],
        ),
    ),
    # -- volumes
    (
        "volume-two-sources",
        _deployment,
        _pod("volumes", [{"name": "v", "emptyDir": {}, "configMap": {"name": "c"}}]),
    ),
    (
        "volume-no-source-mount",
        _deployment,
        _app("volumeMounts", [{"name": "missing", "mountPath": "/m"}]),
    ),
    ("volume-duplicate-name", _deployment, _pod("volumes", [{"name": "v", "emptyDir": {}}] * 2)),
    (
        "mount-relative-path",
        _deployment,
        _all(
            _pod("volumes", [{"name": "v", "emptyDir": {}}]),
            _app("volumeMounts", [{"name": "v", "mountPath": "relative"}]),
        ),
    ),
    (
        "mount-duplicate-path",
        _deployment,
        _all(
            _pod("volumes", [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]),
            _app(
                "volumeMounts", [{"name": "v", "mountPath": "/m"}, {"name": "w", "mountPath": "/m"}]
            ),
        ),
    ),
    (
        "mount-subpath-absolute",
        _deployment,
        _all(
            _pod("volumes", [{"name": "v", "emptyDir": {}}]),
            _app("volumeMounts", [{"name": "v", "mountPath": "/m", "subPath": "/etc"}]),
        ),
    ),
    (
        "configmap-item-dotdot",
        _deployment,
        _pod(
            "volumes",
            [{"name": "v", "configMap": {"name": "c", "items": [{"key": "a", "path": "../a"}]}}],
        ),
    ),
    (
        "configmap-mode-too-big",
        _deployment,
        _pod("volumes", [{"name": "v", "configMap": {"name": "c", "defaultMode": 4096}}]),
    ),
    (
        "emptydir-negative-size",
        _deployment,
        _pod("volumes", [{"name": "v", "emptyDir": {"sizeLimit": "-1Gi"}}]),
    ),
    (
        "hostpath-bad-type",
        _deployment,
        _pod("volumes", [{"name": "v", "hostPath": {"path": "/x", "type": "Folder"}}]),
    ),
    (
        "projected-bad-audience-expiry",
        _deployment,
        _pod(
            "volumes",
            [
                {
                    "name": "v",
                    "projected": {
                        "sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 60}}]
                    },
                }
            ],
        ),
    ),
    (
        "valid-ephemeral-volume",
        _deployment,
        _all(
            _pod(
                "volumes",
                [
                    {
                        "name": "scratch",
                        "ephemeral": {
                            "volumeClaimTemplate": {
                                "spec": {
                                    "accessModes": ["ReadWriteOnce"],
                                    "resources": {"requests": {"storage": "1Gi"}},
                                }
                            }
                        },
                    }
                ],
            ),
            _app("volumeMounts", [{"name": "scratch", "mountPath": "/scratch"}]),
        ),
    ),
    # -- containers and init containers
    (
        "container-name-duplicate",
        _deployment,
        lambda d: _pod(
            "containers", [_container(d), {**copy.deepcopy(_container(d)), "ports": []}]
        )(d),
    ),
    ("container-name-uppercase", _deployment, _app("name", "App")),
    ("container-image-missing", _deployment, _app("image", "")),
    ("container-image-spaces", _deployment, _app("image", "registry.example/web: 1.0")),
    ("container-termination-path-relative", _deployment, _app("terminationMessagePath", "log")),
    (
        "init-same-name-as-app",
        _deployment,
        _pod("initContainers", [{"name": "app", "image": "busybox:1.36"}]),
    ),
    (
        "init-readiness-probe",
        _deployment,
        _pod(
            "initContainers",
            [
                {
                    "name": "init",
                    "image": "busybox:1.36",
                    "readinessProbe": {"exec": {"command": ["true"]}},
                }
            ],
        ),
    ),
    (
        "valid-sidecar-with-probe",
        _deployment,
        _pod(
            "initContainers",
            [
                {
                    "name": "proxy",
                    "image": "envoy:1.30",
                    "restartPolicy": "Always",
                    "readinessProbe": {"tcpSocket": {"port": 9901}},
                }
            ],
        ),
    ),
    (
        "init-restart-policy-never",
        _deployment,
        _pod(
            "initContainers", [{"name": "init", "image": "busybox:1.36", "restartPolicy": "Never"}]
        ),
    ),
    (
        "init-restart-policy-onfailure",
        _deployment,
        _pod(
            "initContainers",
            [{"name": "init", "image": "busybox:1.36", "restartPolicy": "OnFailure"}],
        ),
    ),
    (
        "lifecycle-two-handlers",
        _deployment,
        _app(
            "lifecycle", {"preStop": {"exec": {"command": ["sleep", "5"]}, "sleep": {"seconds": 5}}}
        ),
    ),
    (
        "valid-lifecycle-sleep",
        _deployment,
        _app("lifecycle", {"preStop": {"sleep": {"seconds": 5}}}),
    ),
    (
        "lifecycle-sleep-negative",
        _deployment,
        _app("lifecycle", {"preStop": {"sleep": {"seconds": -1}}}),
    ),
    # -- workload specs
    (
        "deployment-selector-mismatch",
        _deployment,
        _set("spec.selector.matchLabels", {"app": "api"}),
    ),
    ("deployment-empty-selector", _deployment, _set("spec.selector", {})),
    ("deployment-restart-never", _deployment, _pod("restartPolicy", "Never")),
    (
        "deployment-surge-and-unavailable-zero",
        _deployment,
        _set(
            "spec.strategy",
            {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}},
        ),
    ),
    (
        "deployment-recreate-with-rolling",
        _deployment,
        _set("spec.strategy", {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
    ),
    (
        "deployment-surge-percent-bad",
        _deployment,
        _set("spec.strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "150%"}}),
    ),
    ("deployment-history-negative", _deployment, _set("spec.revisionHistoryLimit", -1)),
    (
        "deployment-progress-below-minready",
        _deployment,
        _all(
            _set("spec.minReadySeconds", 30),
            _set("spec.progressDeadlineSeconds", 10),
        ),
    ),
    ("label-key-bad-prefix", _deployment, _set("metadata.labels", {"-bad.io/x": "y"})),
    ("annotation-key-bad", _deployment, _set("metadata.annotations", {"bad key": "y"})),
    ("valid-label-value-empty", _deployment, _set("metadata.labels", {"app": "web", "tier": ""})),
    # -- Jobs and CronJobs
    ("job-restart-always", _job, _set("spec.template.spec.restartPolicy", "Always")),
    ("job-negative-backoff", _job, _set("spec.backoffLimit", -1)),
    (
        "job-completions-zero-parallel",
        _job,
        _all(_set("spec.completions", 0), _set("spec.parallelism", -1)),
    ),
    ("job-indexed-no-completions", _job, _set("spec.completionMode", "Indexed")),
    ("job-ttl-negative", _job, _set("spec.ttlSecondsAfterFinished", -5)),
    ("job-active-deadline-zero", _job, _set("spec.activeDeadlineSeconds", 0)),
    (
        "job-pod-failure-policy-with-onfailure",
        _job,
        _all(
            _set("spec.template.spec.restartPolicy", "OnFailure"),
            _set(
                "spec.podFailurePolicy",
                {
                    "rules": [
                        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}
                    ]
                },
            ),
        ),
    ),
    (
        "job-pod-failure-exit-zero",
        _job,
        _set(
            "spec.podFailurePolicy",
            {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [0]}}]},
        ),
    ),
    (
        "job-success-policy-not-indexed",
        _job,
        _set("spec.successPolicy", {"rules": [{"succeededCount": 1}]}),
    ),
    ("job-manual-selector-no-selector", _job, _set("spec.manualSelector", True)),
    ("cron-bad-schedule", _cronjob, _set("spec.schedule", "every 5 minutes")),
    ("cron-six-fields", _cronjob, _set("spec.schedule", "0 */5 * * * *")),
    ("valid-cron-macro", _cronjob, _set("spec.schedule", "@hourly")),
    ("cron-tz-in-schedule", _cronjob, _set("spec.schedule", "TZ=Europe/Madrid 0 3 * * *")),
    ("cron-bad-timezone", _cronjob, _set("spec.timeZone", "Madrid")),
    ("valid-cron-timezone", _cronjob, _set("spec.timeZone", "Europe/Madrid")),
    ("cron-history-negative", _cronjob, _set("spec.successfulJobsHistoryLimit", -1)),
    ("cron-bad-concurrency", _cronjob, _set("spec.concurrencyPolicy", "Sometimes")),
    ("cron-name-too-long", _cronjob, _set("metadata.name", "r" * 53)),
    # -- Ingress
    ("ingress-no-backend", _ingress, _set("spec.rules.0.http.paths.0.backend", {})),
    (
        "ingress-port-name-and-number",
        _ingress,
        _set("spec.rules.0.http.paths.0.backend.service.port", {"name": "http", "number": 80}),
    ),
    (
        "ingress-port-number-zero",
        _ingress,
        _set("spec.rules.0.http.paths.0.backend.service.port", {"number": 0}),
    ),
    ("ingress-host-ip", _ingress, _set("spec.rules.0.host", "10.0.0.1")),
    ("ingress-host-uppercase", _ingress, _set("spec.rules.0.host", "Web.example.org")),
    ("valid-ingress-wildcard", _ingress, _set("spec.rules.0.host", "*.example.org")),
    ("ingress-wildcard-middle", _ingress, _set("spec.rules.0.host", "web.*.example.org")),
    ("ingress-relative-path", _ingress, _set("spec.rules.0.http.paths.0.path", "kpis")),
    ("ingress-exact-regex", _ingress, _set("spec.rules.0.http.paths.0.path", "/api/(.*)")),
    (
        "ingress-implementation-specific-regex",
        _ingress,
        _all(
            _set("spec.rules.0.http.paths.0.pathType", "ImplementationSpecific"),
            _set("spec.rules.0.http.paths.0.path", "/api/(.*)"),
        ),
    ),
    ("ingress-bad-class-name", _ingress, _set("spec.ingressClassName", "Nginx_Public")),
    ("ingress-tls-bad-secret", _ingress, _set("spec.tls.0.secretName", "Web_TLS")),
    ("ingress-tls-host-uppercase", _ingress, _set("spec.tls.0.hosts", ["WEB.example.org"])),
    (
        "ingress-service-and-resource",
        _ingress,
        _set("spec.rules.0.http.paths.0.backend.resource", {"kind": "Bucket", "name": "b"}),
    ),
    (
        "ingress-default-backend-port-missing",
        _ingress,
        _set("spec.defaultBackend", {"service": {"name": "web"}}),
    ),
    # -- Services
    (
        "service-duplicate-port",
        _service,
        _set("spec.ports", [{"name": "a", "port": 80}, {"name": "b", "port": 80}]),
    ),
    ("service-two-unnamed-ports", _service, _set("spec.ports", [{"port": 80}, {"port": 81}])),
    (
        "service-externalname-bad",
        _service,
        _all(
            _set("spec.type", "ExternalName"),
            _set("spec.externalName", "not a host"),
        ),
    ),
    (
        "service-externalname-with-selector-ok",
        _service,
        _all(
            _set("spec.type", "ExternalName"),
            _set("spec.externalName", "db.example.org"),
        ),
    ),
    (
        "service-headless-nodeport",
        _service,
        _all(_set("spec.type", "NodePort"), _set("spec.clusterIP", "None")),
    ),
    ("service-clusterip-out-of-range", _service, _set("spec.clusterIP", "192.168.0.10")),
    ("valid-service-clusterip-in-range", _service, _set("spec.clusterIP", "10.96.200.10")),
    ("service-nodeport-on-clusterip", _service, _set("spec.ports.0.nodePort", 30080)),
    (
        "service-nodeport-out-of-range",
        _service,
        _all(_set("spec.type", "NodePort"), _set("spec.ports.0.nodePort", 80)),
    ),
    (
        "valid-service-nodeport-in-range",
        _service,
        _all(_set("spec.type", "NodePort"), _set("spec.ports.0.nodePort", 30081)),
    ),
    ("service-local-policy-on-clusterip", _service, _set("spec.externalTrafficPolicy", "Local")),
    (
        "service-session-timeout-zero",
        _service,
        _set("spec.sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 0}}),
    ),
    ("service-bad-ip-family", _service, _set("spec.ipFamilies", ["IPv5"])),
    (
        "service-target-port-name-too-long",
        _service,
        _set("spec.ports.0.targetPort", "http-metrics-x"),
    ),
    ("valid-service-target-port-zero", _service, _set("spec.ports.0.targetPort", 0)),
    ("valid-service-name-leading-digit", _service, _set("metadata.name", "1web")),
    ("service-name-dotted", _service, _set("metadata.name", "web.v2")),
    (
        "service-lb-source-range-bad",
        _service,
        _all(
            _set("spec.type", "LoadBalancer"),
            _set("spec.loadBalancerSourceRanges", ["10.0.0.0/33"]),
        ),
    ),
    # -- Secrets and ConfigMaps
    ("secret-bad-key", _secret, _set("stringData", {"bad key": "x"})),
    ("secret-data-not-base64", _secret, _set("data", {"password": "not base64!"})),
    (
        "secret-tls-missing-key",
        _secret,
        _all(_set("type", "kubernetes.io/tls"), _set("stringData", {"tls.crt": "x"})),
    ),
    (
        "secret-dockerconfig-not-json",
        _secret,
        _all(
            _set("type", "kubernetes.io/dockerconfigjson"),
            _set("stringData", {".dockerconfigjson": "{not json"}),
        ),
    ),
    (
        "secret-basic-auth-no-fields",
        _secret,
        _all(
            _set("type", "kubernetes.io/basic-auth"),
            _set("stringData", {"token": "x"}),
        ),
    ),
    ("secret-sa-token-no-annotation", _secret, _set("type", "kubernetes.io/service-account-token")),
    ("valid-secret-custom-type", _secret, _set("type", "example.org/custom")),
    ("secret-immutable-string", _secret, _set("immutable", "yes")),
    # -- HPAs
    ("hpa-min-above-max", _hpa, _set("spec.minReplicas", 12)),
    ("hpa-min-zero-resource", _hpa, _set("spec.minReplicas", 0)),
    ("hpa-max-zero", _hpa, _set("spec.maxReplicas", 0)),
    ("hpa-utilization-zero", _hpa, _set("spec.metrics.0.resource.target.averageUtilization", 0)),
    (
        "hpa-utilization-on-value",
        _hpa,
        _set("spec.metrics.0.resource.target", {"type": "Value", "averageUtilization": 50}),
    ),
    (
        "hpa-window-too-long",
        _hpa,
        _set("spec.behavior", {"scaleDown": {"stabilizationWindowSeconds": 3601}}),
    ),
    (
        "hpa-policy-period-zero",
        _hpa,
        _set(
            "spec.behavior",
            {"scaleUp": {"policies": [{"type": "Pods", "value": 4, "periodSeconds": 0}]}},
        ),
    ),
    (
        "hpa-policy-period-too-long",
        _hpa,
        _set(
            "spec.behavior",
            {"scaleUp": {"policies": [{"type": "Percent", "value": 100, "periodSeconds": 1801}]}},
        ),
    ),
    (
        "hpa-policy-value-zero",
        _hpa,
        _set(
            "spec.behavior",
            {"scaleDown": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 60}]}},
        ),
    ),
    (
        "hpa-no-policies-on-select",
        _hpa,
        _set("spec.behavior", {"scaleDown": {"selectPolicy": "Disabled", "policies": []}}),
    ),
    ("hpa-target-no-kind", _hpa, _set("spec.scaleTargetRef", {"name": "web"})),
    (
        "hpa-container-resource-no-container",
        _hpa,
        _set(
            "spec.metrics",
            [
                {
                    "type": "ContainerResource",
                    "containerResource": {
                        "name": "cpu",
                        "container": "",
                        "target": {"type": "Utilization", "averageUtilization": 60},
                    },
                }
            ],
        ),
    ),
    ("hpa-metric-type-missing-source", _hpa, _set("spec.metrics", [{"type": "Pods"}])),
    ("valid-hpa-tolerance", _hpa, _set("spec.behavior", {"scaleUp": {"tolerance": "0.05"}})),
    # -- NetworkPolicies
    ("netpol-bad-cidr", _network_policy, _set("spec.egress.0.to.0.ipBlock.cidr", "10.0.0.0/40")),
    (
        "netpol-except-outside",
        _network_policy,
        _set("spec.egress.0.to.0.ipBlock.except", ["192.168.0.0/16"]),
    ),
    (
        "netpol-except-equal",
        _network_policy,
        _set("spec.egress.0.to.0.ipBlock.except", ["10.0.0.0/8"]),
    ),
    (
        "netpol-endport-below-port",
        _network_policy,
        _set("spec.ingress.0.ports", [{"port": 8080, "endPort": 8000}]),
    ),
    (
        "netpol-endport-named-port",
        _network_policy,
        _set("spec.ingress.0.ports", [{"port": "http", "endPort": 9000}]),
    ),
    (
        "netpol-ipblock-and-selector",
        _network_policy,
        _set("spec.egress.0.to", [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]),
    ),
    ("netpol-bad-policy-type", _network_policy, _set("spec.policyTypes", ["Inbound"])),
    ("netpol-port-zero", _network_policy, _set("spec.ingress.0.ports", [{"port": 0}])),
    (
        "netpol-bad-selector-op",
        _network_policy,
        _set(
            "spec.podSelector",
            {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]},
        ),
    ),
    # -- RBAC
    ("role-empty-verbs", _role, _set("rules.0.verbs", [])),
    ("role-no-api-groups", _role, lambda d: d["rules"][0].__delitem__("apiGroups")),
    ("role-non-resource-urls", _role, _set("rules.0.nonResourceURLs", ["/healthz"])),
    ("valid-role-unknown-verb", _role, _set("rules.0.verbs", ["frobnicate"])),
    ("binding-bad-roleref-kind", _role_binding, _set("roleRef.kind", "Group")),
    ("binding-roleref-wrong-group", _role_binding, _set("roleRef.apiGroup", "rbac")),
    ("binding-subject-bad-kind", _role_binding, _set("subjects.0.kind", "Robot")),
    (
        "binding-user-with-namespace",
        _role_binding,
        _set(
            "subjects.0",
            {
                "kind": "User",
                "name": "alice",
                "namespace": "x",
                "apiGroup": "rbac.authorization.k8s.io",
            },
        ),
    ),
    ("binding-sa-bad-name", _role_binding, _set("subjects.0.name", "Web Bot")),
    # -- PDBs
    ("pdb-both-fields", _pdb, _set("spec.maxUnavailable", 1)),
    ("pdb-percent-over-100", _pdb, _set("spec.minAvailable", "150%")),
    ("pdb-negative", _pdb, _set("spec.minAvailable", -1)),
    ("pdb-bad-eviction-policy", _pdb, _set("spec.unhealthyPodEvictionPolicy", "Never")),
    ("valid-pdb-empty-selector", _pdb, _set("spec.selector", {})),
]


def semantic_corpus() -> list[Mutant]:
    """One document per case, named after it."""
    out = []
    for case, base, edit in CASES:
        doc = base()
        edit(doc)
        kind_name = f"{doc['kind']}/{doc['metadata'].get('name', '')}"
        out.append(Mutant(base=kind_name, mutation=case, path="", doc=copy.deepcopy(doc)))
    return out
