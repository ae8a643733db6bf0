"""gitops.upstream: finding the built validator, the protocol, and real verdicts of
kube-apiserver's code (the binary `make setup` builds where Go is installed; CI has it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitops.config import ApiServerSettings, RepoConfig
from gitops.errors import CommandError
from gitops.runner import GO_GC_PERCENT, Command, CommandResult
from gitops.upstream import (
    UpstreamValidator,
    UpstreamValidatorError,
    Verdict,
    validator_cache_root,
)
from tests.prerequisites import skip_or_fail


def _fake_build(cache: Path, release: str, complete: bool = True) -> Path:
    folder = cache / "integration-gitops" / "validator" / f"gitops-validator-{release}"
    folder.mkdir(parents=True)
    binary = folder / "gitops-validator"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    if complete:
        (folder / ".complete").write_text(release)
    return binary


def test_find_picks_a_complete_build_that_judges_the_minor(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    assert UpstreamValidator.find(RepoConfig(), "1.36", env) is None
    _fake_build(tmp_path, "v1.36.3", complete=False)  # an interrupted build is not used
    assert UpstreamValidator.find(RepoConfig(), "1.36", env) is None
    (tmp_path / "integration-gitops/validator/gitops-validator-v1.36.3/.complete").write_text("")
    found = UpstreamValidator.find(RepoConfig(), "1.34", env)
    assert found is not None
    assert found.release == "v1.36.3"
    assert found.describe() == "kube-apiserver v1.36.3 validation emulating 1.34"
    # kube-apiserver emulates three minors back, no further, and never ahead.
    assert UpstreamValidator.find(RepoConfig(), "1.32", env) is None
    assert UpstreamValidator.find(RepoConfig(), "1.37", env) is None
    assert validator_cache_root(env) == tmp_path / "integration-gitops" / "validator"


def test_a_configured_binary_must_be_executable(tmp_path: Path) -> None:
    config = RepoConfig(api_server=ApiServerSettings(validator=str(tmp_path / "missing")))
    with pytest.raises(UpstreamValidatorError, match=r"apiServer.validator: .* not an executable"):
        UpstreamValidator.find(config, environ={})


class ScriptedRunner:
    """Answers as the binary would and records the command."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.commands: list[Command] = []

    def __call__(self, command: Command) -> CommandResult:
        self.commands.append(command)
        out = "".join(json.dumps(a) + "\n" for a in self.answers)
        return CommandResult(command, 0, out, "")


def test_judge_teaches_crds_first_and_passes_the_cluster_settings(tmp_path: Path) -> None:
    runner = ScriptedRunner(
        [
            {"id": "crd-0", "allowed": True},
            {
                "id": "doc-0",
                "allowed": False,
                "reason": "Invalid",
                "message": "m",
                "causes": [
                    {
                        "field": "spec.replicas",
                        "type": "FieldValueInvalid",
                        "message": "Invalid value: -1: must be greater than or equal to 0",
                    }
                ],
            },
            {
                "id": "doc-1",
                "allowed": False,
                "reason": "NotFound",
                "notServed": True,
                "message": 'no matches for kind "X" in version "a/v1"',
            },
        ]
    )
    settings = ApiServerSettings(service_node_port_range="30000-30100")
    gates = (("PodLevelResources", False),)
    judge = UpstreamValidator(tmp_path / "v", "v1.36.3", "1.36", settings, runner, gates)
    crd_verdicts, verdicts = judge.judge(
        [{"kind": "Deployment", "when": __import__("datetime").date(2026, 1, 2)}, {"kind": "X"}],
        crds=[{"kind": "CustomResourceDefinition"}],
        namespace="integration",
    )
    assert crd_verdicts == [Verdict(allowed=True)]
    assert verdicts[0].problems() == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    ]
    assert verdicts[1].not_served and not verdicts[1].decoding
    command = runner.commands[0]
    assert command.argv[1:] == (
        "--kubernetes-version=1.36",
        "--service-cluster-ip-range=10.96.0.0/12",
        "--service-node-port-range=30000-30100",
        "--allow-privileged=true",
        "--feature-gates=PodLevelResources=false",
    )
    requests = [json.loads(line) for line in (command.stdin or "").splitlines()]
    assert [(r["id"], r.get("op")) for r in requests] == [
        ("crd-0", "learn"),
        ("doc-0", None),
        ("doc-1", None),
    ]
    assert requests[1]["namespace"] == "integration"
    assert requests[1]["object"]["when"] == "2026-01-02"  # dates reach the API as strings


def test_an_answer_missing_or_out_of_protocol_is_an_error(tmp_path: Path) -> None:
    short = UpstreamValidator(tmp_path / "v", "v1.36.3", "1.36", runner=ScriptedRunner([]))
    with pytest.raises(UpstreamValidatorError, match="answered 0 of 1 documents"):
        short.judge([{"kind": "Pod"}])

    def garbage(command: Command) -> CommandResult:
        return CommandResult(command, 0, "panic: oops\n", "")

    broken = UpstreamValidator(tmp_path / "v", "v1.36.3", "1.36", runner=garbage)
    with pytest.raises(UpstreamValidatorError, match="answer 1 is not a verdict"):
        broken.judge([{"kind": "Pod"}])


def test_a_crd_file_goes_by_its_path_and_a_refusal_of_it_is_an_error(tmp_path: Path) -> None:
    """Our bundled CRDs are sent as paths, for the validator to read: no YAML parsed here.
    They are valid, so a validator that cannot learn one (a build older than the "file"
    request) stops the run with the remedy, rather than every custom resource "not served"."""
    crds = tmp_path / "crds.yaml"
    learnt = ScriptedRunner([{"id": "crd-0", "allowed": True}, {"id": "doc-0", "allowed": True}])
    judge = UpstreamValidator(tmp_path / "v", "v1.36.3", "1.36", runner=learnt, crds=(crds,))
    assert judge.judge([{"kind": "Pod"}]) == ([], [Verdict(allowed=True)])
    first = json.loads((learnt.commands[0].stdin or "").splitlines()[0])
    assert first == {"id": "crd-0", "op": "learn", "file": str(crds.resolve())}

    refused = {"id": "crd-0", "allowed": False, "reason": "BadRequest", "message": "no kind"}
    stale = ScriptedRunner([refused, {"id": "doc-0", "allowed": True}])
    judge = UpstreamValidator(tmp_path / "v", "v1.36.3", "1.36", runner=stale, crds=(crds,))
    with pytest.raises(
        UpstreamValidatorError,
        match=r"could not learn the CRDs of .*crds.yaml: "
        r"no kind \(built before this gitops\? run `make validator`\)",
    ):
        judge.judge([{"kind": "Pod"}])


def test_the_validator_runs_with_a_higher_gc_target_unless_gogc_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "gitops-validator"
    script.write_text(
        "#!/bin/sh\ncat >/dev/null\n"
        'printf \'{"id": "doc-0", "allowed": false, "message": "GOGC=%s"}\\n\' "$GOGC"\n'
    )
    script.chmod(0o755)
    judge = UpstreamValidator(script, "v1.36.3", "1.36")
    monkeypatch.delenv("GOGC", raising=False)
    assert judge.judge([{"kind": "Pod"}])[1][0].message == f"GOGC={GO_GC_PERCENT}"
    monkeypatch.setenv("GOGC", "50")  # the user's wins
    assert judge.judge([{"kind": "Pod"}])[1][0].message == "GOGC=50"


# --- the real binary --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream() -> UpstreamValidator:
    found = UpstreamValidator.find(RepoConfig())
    if found is None:
        skip_or_fail("gitops-validator is not built (make validator; needs Go >= 1.26)")
    return found


def _deployment(**spec: Any) -> dict[str, Any]:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "registry.example/web:1.0"}]},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "integration"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template, **spec},
    }


def test_real_verdicts_of_kube_apiserver_code(upstream: UpstreamValidator) -> None:
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "integration"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 5,
            "maxReplicas": 2,
        },
    }
    node_port = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "integration"},
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web"},
            "ports": [{"port": 80, "nodePort": 80}],
        },
    }
    _, verdicts = upstream.judge(
        [
            _deployment(),
            _deployment(replicas=-1),
            _deployment(replica=3),
            hpa,
            node_port,
            {"apiVersion": "extensions/v1beta1", "kind": "Deployment", "metadata": {"name": "x"}},
        ]
    )
    ok, negative, misspelt, bounds, port, removed = verdicts
    assert ok.allowed, ok
    assert negative.problems() == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    ]
    assert misspelt.decoding and 'unknown field "spec.replica"' in misspelt.message
    assert bounds.problems() == [
        "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"
    ]
    # A real create's node-port check (a dry run skips it): what Argo CD's sync would hit.
    assert port.problems() == [
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
        "The range of valid ports is 30000-32767"
    ]
    assert removed.not_served


def test_crds_taught_first_judge_their_custom_resources(upstream: UpstreamValidator) -> None:
    crd = _widget_crd(
        "example.org",
        {
            "type": "object",
            "properties": {"size": {"type": "integer", "default": 1}},
            "x-kubernetes-validations": [
                {"rule": "self.size <= 10", "message": "size is at most 10"}
            ],
        },
    )

    def widget(spec: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "example.org/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "integration"},
            "spec": spec,
        }

    crd_verdicts, (ok, defaulted, cel, unknown) = upstream.judge(
        [widget({"size": 3}), widget({}), widget({"size": 11}), widget({"colour": "red"})],
        crds=[crd],
    )
    assert crd_verdicts[0].allowed
    assert ok.allowed and defaulted.allowed
    assert cel.problems() == ["spec: Invalid value: size is at most 10"]
    assert unknown.decoding and 'unknown field "spec.colour"' in unknown.message


def test_the_validator_reads_a_file_of_crds_itself(
    upstream: UpstreamValidator, tmp_path: Path
) -> None:
    """Every CRD of a YAML file, read as kubectl reads manifests: `---` separators, an empty
    document, anchors and aliases; a CRD the API server refuses stops the run, named by its
    position in the file."""
    schema = {"type": "object", "properties": {"size": {"type": "integer", "maximum": 10}}}
    widget = json.dumps(_widget_crd("example.org", schema))
    # The second CRD in YAML, its spec schema an alias of an anchor.
    gadget = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: gadgets.example.net}\n"
        "spec:\n  group: example.net\n  scope: Namespaced\n"
        "  names: {kind: Gadget, plural: gadgets, singular: gadget}\n"
        "  versions:\n  - name: v1\n    served: true\n    storage: true\n"
        "    schema:\n      openAPIV3Schema:\n        type: object\n"
        "        properties:\n"
        "          spec: &spec {type: object, properties: {size: {type: integer, maximum: 10}}}\n"
        "          status: *spec\n"
    )
    crds = tmp_path / "crds.yaml"
    crds.write_text(f"---\n{widget}\n---\n---\n{gadget}")

    def custom(group: str, kind: str, size: int) -> dict[str, Any]:
        return {
            "apiVersion": f"{group}/v1",
            "kind": kind,
            "metadata": {"name": "w", "namespace": "integration"},
            "spec": {"size": size},
        }

    learnt, (ok, big) = upstream.judge(
        [custom("example.org", "Widget", 3), custom("example.net", "Gadget", 11)], crds=[crds]
    )
    assert learnt == [Verdict(allowed=True)]
    assert ok.allowed
    assert big.problems() == [
        "spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"
    ]

    broken = tmp_path / "broken.yaml"
    broken.write_text(
        f"{widget}\n---\nkind: CustomResourceDefinition\n"
        "apiVersion: apiextensions.k8s.io/v1\nmetadata: {name: x}\n"
    )
    with pytest.raises(
        UpstreamValidatorError, match=r"broken.yaml: document 1: .* spec.group: Required value"
    ):
        upstream.judge([], crds=[broken])


def test_a_run_the_validator_judges_loads_none_of_the_fallback(
    upstream: UpstreamValidator, tmp_path: Path
) -> None:
    """What makes the upstream path faster than the fallback: a clean run never parses our
    bundled CRDs (the validator reads them), never reads the feature-gate table, and never
    loads the fallback's rules nor the line locator (nothing to place)."""
    (tmp_path / "in.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ns}\n---\n"
        "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n"
        "metadata: {name: m, namespace: ns}\n"
        "spec: {selector: {}, endpoints: [{port: http}]}\n"
    )
    script = (
        "import json, sys, gitops.cli, gitops.config, gitops.schema.validator as v\n"
        "calls = []\n"
        "v.read_crd_file = lambda *a: calls.append('crd file') or []\n"
        "gates = gitops.config.RepoConfig.gates\n"
        "gitops.config.RepoConfig.gates = lambda *a: calls.append('gates') or gates(*a)\n"
        "code = gitops.cli.main(['validate', '--validator', 'upstream', 'in.yaml'])\n"
        "fallback = [m for m in ('gitops.apivalidation', 'gitops.locate') if m in sys.modules]\n"
        "print(json.dumps([code, calls, fallback]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert done.stdout.splitlines()[-2].startswith("2 documents, 0 invalid")
    assert json.loads(done.stdout.splitlines()[-1]) == [0, [], []]


def test_a_failing_binary_is_a_command_error(tmp_path: Path) -> None:
    script = tmp_path / "gitops-validator"
    script.write_text("#!/bin/sh\necho 'gitops-validator: --kubernetes-version' >&2\nexit 2\n")
    script.chmod(0o755)
    judge = UpstreamValidator(script, "v1.36.3", "1.36")
    with pytest.raises(CommandError, match="exited 2"):
        judge.judge([{"kind": "Pod"}])


# --- through `gitops validate` ----------------------------------------------------------------

PLANTED = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: integration}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 5
  maxReplicas: 2
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: integration}
spec:
  schedule: every 5 minutes
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: report, image: registry.example/report:1.0}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fine, namespace: integration}
data: {a: b}
"""


def test_validate_judges_with_kube_apiserver_code(
    upstream: UpstreamValidator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops.cli import main

    planted = tmp_path / "planted.yaml"
    planted.write_text(PLANTED)
    assert main(["validate", "--validator", "upstream", "--repo", str(tmp_path), str(planted)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        # Each on the line of the field the API server names.
        f"{planted}:7: HorizontalPodAutoscaler/web: spec.maxReplicas: Invalid value: 2: must be "
        "greater than or equal to `minReplicas`",
        f'{planted}:13: CronJob/report: spec.schedule: Invalid value: "every 5 minutes": '
        "expected exactly 5 fields, found 3: [every 5 minutes]",
        f"3 documents, 2 invalid (Kubernetes 1.36, judged by {upstream.describe()})",
    ]


def test_without_a_build_auto_falls_back_with_a_note_and_upstream_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    planted = tmp_path / "planted.yaml"
    planted.write_text(PLANTED)
    assert main(["validate", "--validator", "auto", "--repo", str(tmp_path), str(planted)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("note: API-server rules checked by the Python fallback only")
    assert "Run `make validator`" in captured.err
    # The fallback has no cron parser: the CronJob passes there.
    assert captured.out.splitlines()[-1] == "3 documents, 1 invalid (Kubernetes 1.36)"
    code = main(["validate", "--validator", "upstream", "--repo", str(tmp_path), str(planted)])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: --validator upstream: no gitops-validator built for Kubernetes 1.36 "
        "(run `make validator`; it needs Go >= 1.26)\n"
    )


def test_documents_sent_one_by_one_get_their_verdicts_in_order(tmp_path: Path) -> None:
    runner = ScriptedRunner(
        [
            {"id": "crd-0", "allowed": True},  # the validator's own CRD, taught first
            {"id": "doc-0", "allowed": True},
            {"id": "crd-1", "allowed": True},
            {"id": "doc-1", "allowed": False, "reason": "Invalid", "message": "bad"},
        ]
    )
    own = ({"kind": "CustomResourceDefinition", "metadata": {"name": "own"}},)
    judging = UpstreamValidator(tmp_path / "v", "v1.36.3", "1.36", runner=runner, crds=own).start()
    assert judging.send({"kind": "ConfigMap"}) == 0
    assert judging.learn({"kind": "CustomResourceDefinition"}) == 1
    assert judging.send({"kind": "Thing"}, "integration") == 2
    first, crd, thing = judging.verdicts()
    assert first.allowed and crd.allowed and thing.problems() == ["bad"]
    requests = [json.loads(line) for line in (runner.commands[0].stdin or "").splitlines()]
    assert [(r["id"], r.get("op")) for r in requests] == [
        ("crd-0", "learn"),
        ("doc-0", None),
        ("crd-1", "learn"),
        ("doc-1", None),
    ]
    # Judging again starts anew: the own CRD first again, ids from 0.
    runner.answers = [{"id": "crd-0", "allowed": True}, {"id": "doc-0", "allowed": True}]
    assert judging.judge([{"kind": "ConfigMap"}])[1][0].allowed
    assert [json.loads(r)["id"] for r in (runner.commands[1].stdin or "").splitlines()] == [
        "crd-0",
        "doc-0",
    ]


def test_validate_streams_built_in_kinds_and_holds_custom_resources_for_their_crds(
    upstream: UpstreamValidator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A custom resource read before the CRD that defines it (a later file) is judged by that
    CRD, as when the whole input was sent at once; built-in kinds are judged as they are read."""
    from gitops.cli import main

    (tmp_path / "a-widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: ns}\n"
        "spec: {size: -1}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\n"
        "data: {a: 1}\n"
    )
    crd = _widget_crd(
        "example.com",
        {"type": "object", "properties": {"size": {"type": "integer", "minimum": 0}}},
    )
    (tmp_path / "b-crd.json").write_text(json.dumps(crd))
    argv = ["validate", "--validator", "upstream", "--repo", str(tmp_path), str(tmp_path)]
    assert main(argv) == 1
    out = capsys.readouterr().out.splitlines()
    widget = tmp_path / "a-widget.yaml"
    assert out[:2] == [
        f"{widget}:4: Widget/w: spec.size: Invalid value: -1: spec.size in body should be "
        "greater than or equal to 0",
        f'{widget}:6: ConfigMap/c: ConfigMap in version "v1" cannot be handled as a ConfigMap: '
        "json: cannot unmarshal number into Go struct field ConfigMap.data of type string",
    ]
    assert out[-1].startswith("3 documents, 2 invalid")


def _widget_crd(group: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A namespaced CRD of kind Widget in GROUP, v1 only, whose spec has the schema SPEC."""
    schema = {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
        },
    }
