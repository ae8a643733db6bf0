"""``tests/prerequisites.py``: what `make test` needs from the machine, checked first, installed by
`make deps`, and the one skip-or-fail rule for the tests that need it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from gitops import pglocal
from tests import prerequisites
from tests.conftest import REPO_ROOT
from tests.prerequisites import (
    BY_KEY,
    Environment,
    Missing,
    detect_system,
    find_missing,
    install,
    install_command,
    missing_message,
    require,
)

BROWSER_NAMES = {*prerequisites.BROWSER_NAMES, "chromedriver"}


def path_without(tmp_path: Path, hidden: set[str]) -> str:
    """A PATH of one folder holding links to every program on this PATH except ``hidden``:
    the machine as it would be without those packages."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = folder / entry.name
            if entry.name in hidden or target.exists() or target.is_symlink():
                continue
            if os.access(entry.path, os.X_OK) and not entry.is_dir():
                target.symlink_to(entry.path)
    return str(folder)


def executable(path: Path, body: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def missing(*keys: str) -> list[Missing]:
    return [Missing(BY_KEY[key], "not found") for key in keys]


# ----------------------------------------------------------------------- make test, fresh


@pytest.mark.skipif(
    sys.platform == "darwin", reason="macOS finds Chrome.app outside PATH: cannot hide it"
)
def test_make_test_on_a_fresh_clone_without_chromium_stops_at_once_with_one_line(
    tmp_path: Path,
) -> None:
    """The issue's "done when": a fresh clone (no .venv) on a machine without Chromium gets one
    line naming what is missing and the command that installs it, before `make setup` (which
    takes minutes) has started: no .venv exists afterwards."""
    clone = tmp_path / "clone"
    for name in ("Makefile", "pyproject.toml", "tests/prerequisites.py"):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, clone / name)
    path = path_without(tmp_path, BROWSER_NAMES)
    env = {"PATH": path, "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    result = subprocess.run(
        ["make", "test"], cwd=clone, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert not (clone / ".venv").exists(), "setup started before the prerequisite check"
    ours = [line for line in result.stderr.splitlines() if not line.startswith("make: ***")]
    assert len(ours) == 1, result.stderr
    line = ours[0]
    assert line.startswith("prerequisites missing: Chromium and chromedriver")
    expected_env = Environment(path=path, environ=env)
    assert line.endswith(install_command(find_missing(env=expected_env), expected_env))
    assert result.stdout == ""


def test_make_ci_checks_prerequisites_before_anything_else() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "--no-print-directory", "ci"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    assert dry_run[0].endswith("tests/prerequisites.py")


def test_the_checker_needs_nothing_but_the_standard_library() -> None:
    """`make test` runs it with the system python3 before .venv exists: -S drops every
    site-packages folder, so an import of a third-party package would fail here."""
    result = subprocess.run(
        [sys.executable, "-S", "-I", str(REPO_ROOT / "tests" / "prerequisites.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CI": ""},
    )
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------- what is missing


def test_a_hidden_program_is_reported_and_ci_only_ones_only_under_ci(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    outside = Environment(path=str(empty), environ={}, is_root=False, system="debian")
    keys = [m.prerequisite.key for m in find_missing(env=outside)]
    assert "git" in keys and "browser" in keys and "go" not in keys

    in_ci = Environment(path=str(empty), environ={"CI": "true"}, is_root=False, system="debian")
    assert "go" in [m.prerequisite.key for m in find_missing(env=in_ci)]
    assert [m.prerequisite.key for m in find_missing(["go"], outside)] == ["go"]


def test_everything_present_is_not_reported(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    for name in ("git", "chromium", "chromedriver", "pg_ctl", "initdb", "runuser", "node"):
        executable(bin_dir / name)
    env = Environment(path=str(bin_dir), environ={}, is_root=False, system="debian")
    assert find_missing(env=env) == []


def test_go_older_than_the_pinned_modules_need_is_reported(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    executable(bin_dir / "go", "#!/bin/sh\necho go1.24.2\n")
    env = Environment(path=str(bin_dir), environ={"CI": "true"}, is_root=False, system="debian")
    [go] = find_missing(["go"], env)
    assert go.problem.endswith("is Go 1.24.2")
    assert "Go >= 1.26" in go.describe() and "is Go 1.24.2" in go.describe()
    executable(bin_dir / "go", "#!/bin/sh\necho go1.26.0\n")
    assert find_missing(["go"], env) == []


def test_root_needs_the_postgres_user_and_runuser(tmp_path: Path) -> None:
    """PostgreSQL refuses to run as root: as root the tests start it as `postgres`."""
    bin_dir = tmp_path / "bin"
    for name in ("pg_ctl", "initdb"):
        executable(bin_dir / name)

    def env(is_root: bool, users: set[str]) -> Environment:
        return Environment(str(bin_dir), {}, is_root, "debian", lambda name: name in users)

    [no_user] = find_missing(["postgresql"], env(True, set()))
    assert no_user.problem == "no `postgres` system user to run it as (tests run as root)"
    [no_runuser] = find_missing(["postgresql"], env(True, {"postgres"}))
    assert no_runuser.problem.startswith("no `runuser`")
    executable(bin_dir / "runuser")
    assert find_missing(["postgresql"], env(True, {"postgres"})) == []
    assert find_missing(["postgresql"], env(False, set())) == []


@pytest.mark.parametrize(
    ("text", "system"),
    [
        ('ID=debian\nVERSION_ID="12"\n', "debian"),
        ("ID=ubuntu\nID_LIKE=debian\n", "ubuntu"),
        ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "ubuntu"),
        ('ID=raspbian\nID_LIKE="debian"\n', "debian"),
        ('ID=fedora\nID_LIKE="rhel centos"\n', "other"),
    ],
)
def test_the_platform_comes_from_os_release(tmp_path: Path, text: str, system: str) -> None:
    if sys.platform == "darwin":
        pytest.skip("on macOS the platform is macos whatever os-release says")
    release = tmp_path / "os-release"
    release.write_text(text)
    assert detect_system(release) == system


# ----------------------------------------------------------------------- the one command


@pytest.mark.parametrize(
    ("system", "is_root", "expected"),
    [
        (
            "debian",
            False,
            "sudo apt-get install -y postgresql chromium chromium-driver (or sudo make deps)",
        ),
        ("debian", True, "make deps (runs apt-get install -y postgresql chromium chromium-driver)"),
        (
            "ubuntu",
            False,
            "sudo apt-get install -y postgresql chromium-browser chromium-chromedriver "
            "(or sudo make deps)",
        ),
        (
            "macos",
            False,
            "brew install postgresql@17 && brew install --cask google-chrome chromedriver",
        ),
    ],
)
def test_the_install_command_fits_the_platform(system: str, is_root: bool, expected: str) -> None:
    env = Environment(environ={}, is_root=is_root, system=system)
    assert install_command(missing("postgresql", "browser"), env) == expected


def test_go_has_no_apt_package_so_the_message_says_where_to_get_it() -> None:
    env = Environment(environ={"CI": "true"}, is_root=False, system="debian")
    command = install_command(missing("browser", "go"), env)
    assert command.startswith("sudo apt-get install -y chromium chromium-driver")
    assert command.endswith("Go from https://go.dev/dl (distribution packages are older)")
    assert install_command(missing("go"), Environment(system="macos")) == "brew install go"


def test_the_message_is_one_line_naming_each_missing_thing_and_what_needs_it() -> None:
    env = Environment(environ={}, is_root=False, system="debian")
    message = missing_message(missing("postgresql", "browser"), env)
    assert "\n" not in message
    assert message == (
        "prerequisites missing: PostgreSQL server (pg_ctl, initdb) (the kpis-api and gitops "
        "probe tests); Chromium and chromedriver (the kpis-api dashboard test). Install: "
        "sudo apt-get install -y postgresql chromium chromium-driver (or sudo make deps)"
    )


# ----------------------------------------------------------------------- skip or fail


def test_a_missing_prerequisite_skips_outside_ci_and_fails_under_ci(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    outside = Environment(path=str(empty), environ={}, is_root=False, system="debian")
    with pytest.raises(pytest.skip.Exception, match=r"^prerequisites missing: git \("):
        require("git", env=outside)
    in_ci = Environment(path=str(empty), environ={"CI": "true"}, is_root=False, system="debian")
    with pytest.raises(pytest.fail.Exception, match="CI: a missing prerequisite fails"):
        require("git", env=in_ci)
    with pytest.raises(pytest.skip.Exception):
        require("git", env=Environment(path=str(empty), environ={"CI": "false"}))


def test_a_present_prerequisite_neither_skips_nor_fails(tmp_path: Path) -> None:
    executable(tmp_path / "bin" / "git")
    require("git", env=Environment(path=str(tmp_path / "bin"), environ={"CI": "true"}))


# ----------------------------------------------------------------------- make deps


class FakeApt:
    """Records the commands `make deps` runs; ``provides`` are linked into ``bin_dir`` by the
    install command, as apt-get would put them on PATH."""

    def __init__(self, bin_dir: Path, provides: Sequence[str] = ()) -> None:
        self.bin_dir = bin_dir
        self.provides = provides
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], environ: Mapping[str, str]) -> int:
        self.calls.append(list(argv))
        assert environ["DEBIAN_FRONTEND"] == "noninteractive"
        if argv[:2] == ["apt-get", "install"]:
            for name in self.provides:
                executable(self.bin_dir / name)
        return 0


def _debian_root(tmp_path: Path) -> Environment:
    bin_dir = tmp_path / "bin"
    for name in ("git", "pg_ctl", "initdb", "runuser", "node"):
        executable(bin_dir / name)
    return Environment(
        path=str(bin_dir), environ={}, is_root=True, system="debian", has_user=lambda _: True
    )


def test_make_deps_apt_installs_what_is_missing_then_checks_again(tmp_path: Path) -> None:
    env = _debian_root(tmp_path)
    apt = FakeApt(tmp_path / "bin", provides=("chromium", "chromedriver"))
    assert install(env, apt) == 0
    assert apt.calls == [
        ["apt-get", "update", "-qq"],
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ],
    ]
    # idempotent: everything is there now, so no apt-get at all
    again = FakeApt(tmp_path / "bin")
    assert install(env, again) == 0 and again.calls == []


def test_make_deps_fails_when_apt_did_not_provide_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _debian_root(tmp_path)
    apt = FakeApt(tmp_path / "bin", provides=())
    assert install(env, apt) == 2
    assert "deps: still prerequisites missing: Chromium and chromedriver" in capsys.readouterr().err


def test_make_deps_as_a_user_or_off_debian_prints_the_command_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for env in (
        Environment(path=str(empty), environ={}, is_root=False, system="debian"),
        Environment(path=str(empty), environ={}, is_root=True, system="macos"),
    ):
        apt = FakeApt(empty)
        assert install(env, apt) == 2
        assert apt.calls == []
        assert "Install: " in capsys.readouterr().err


# ----------------------------------------------------------------------- one finder


def test_postgres_is_found_where_gitops_probe_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check and `gitops probe` (gitops.pglocal) must agree, or a test would pass the
    check and then fail to start PostgreSQL."""
    assert prerequisites.find_pg_bin_dir() == pglocal.find_pg_bin_dir()
    server = tmp_path / "pg" / "bin"
    for name in ("pg_ctl", "initdb"):
        executable(server / name)
    monkeypatch.setenv("PATH", f"{server}{os.pathsep}{os.environ['PATH']}")
    assert prerequisites.find_pg_bin_dir() == pglocal.find_pg_bin_dir() == server
