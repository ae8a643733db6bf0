"""What `make test` needs from the machine besides Python packages, checked before anything else.

`make test` and `make ci` run this first, with the system ``python3`` (standard library only:
``.venv`` may not exist yet), and stop with one line naming what is missing and the one command
that installs it; `make deps` runs it with ``--install`` (Debian/Ubuntu, as root: apt-get).

    $ python3 tests/prerequisites.py
    missing: Chromium and chromedriver (the kpis-api dashboard test); install them: ...
    $ echo $?
    2

Tests that need one of these call :func:`require` (fixtures) or carry
``@pytest.mark.requires("postgresql")``. One rule for all of them: outside CI they skip with
that same line as the reason; under CI (``CI`` set, as GitHub Actions and ``.ci/run`` set it)
they fail, so a CI run never passes by skipping. Go is the exception that proves the rule: the
upstream validator's tests need it, but gitops works without it (its Python fallback), so only
CI requires it.
"""

from __future__ import annotations

import glob
import os
import platform
import pwd
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parent.parent
EXIT_MISSING = 2
MIN_PYTHON = (3, 11)
# tools/cluster/build.py's MIN_GO: the pinned Kubernetes modules need it.
MIN_GO = (1, 26)
GO_FALLBACKS = (Path("/usr/local/go/bin/go"),)

# Where PostgreSQL's server binaries live when pg_ctl is not on PATH: Debian/Ubuntu's
# postgresql-NN packages, Homebrew's keg-only postgresql@NN formulae (Apple silicon, Intel).
PG_BIN_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
)
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MACOS_BROWSER_APPS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)


def under_ci(environ: Mapping[str, str] | None = None) -> bool:
    """``CI=true`` (GitHub Actions, .ci/run): nothing may skip."""
    env = os.environ if environ is None else environ
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# ------------------------------------------------------------------------------- finders


def find_pg_bin_dir(path: str | None = None) -> Path | None:
    """The folder holding ``pg_ctl`` and ``initdb``: PATH first, else the newest packaged
    server (the same order as gitops.pglocal.find_pg_bin_dir, which `gitops probe` uses)."""
    on_path = shutil.which("pg_ctl", path=path)
    if on_path:
        real = Path(os.path.realpath(on_path)).parent
        if (real / "initdb").exists():
            return real
    candidates = [
        Path(found)
        for pattern in PG_BIN_GLOBS
        for found in glob.glob(pattern)
        if (Path(found) / "pg_ctl").exists() and (Path(found) / "initdb").exists()
    ]
    return max(candidates, key=_major_version) if candidates else None


def _major_version(bin_dir: Path) -> int:
    digits = "".join(c for c in bin_dir.parent.name.rpartition("@")[2] if c.isdigit())
    return int(digits) if digits else 0


def find_browser(path: str | None = None) -> tuple[str, str] | None:
    """(browser, chromedriver) for the headless dashboard test, or None."""
    driver = shutil.which("chromedriver", path=path)
    browser = next(
        (found for name in BROWSER_NAMES if (found := shutil.which(name, path=path))), None
    )
    if browser is None and sys.platform == "darwin":
        browser = next((app for app in MACOS_BROWSER_APPS if os.access(app, os.X_OK)), None)
    return (browser, driver) if browser and driver else None


def find_go(path: str | None = None) -> str | None:
    """``go`` on PATH, else where Go's tarball installs it (as tools/cluster/build.py looks);
    with an explicit ``path`` (tests), only that PATH."""
    if path is not None:
        return shutil.which("go", path=path)
    return shutil.which("go") or next((str(p) for p in GO_FALLBACKS if os.access(p, os.X_OK)), None)


# ------------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class Prerequisite:
    """One thing the tests need. ``problem`` returns None when it is there, else what is
    wrong ("not found", "Go 1.24 is too old"). Install commands per platform: Debian packages
    (``apt``; Ubuntu's names in ``apt_ubuntu`` where they differ), Homebrew formulae and casks;
    ``manual`` where no package manager has it at the version needed."""

    key: str
    label: str
    needed_by: str
    problem: Callable[[Environment], str | None]
    apt: tuple[str, ...] = ()
    apt_ubuntu: tuple[str, ...] | None = None
    brew: tuple[str, ...] = ()
    brew_casks: tuple[str, ...] = ()
    manual: str = ""
    ci_only: bool = False


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass(frozen=True)
class Environment:
    """What the checks look at, injectable for tests: PATH, the environment, root or not, the
    platform ("debian", "ubuntu", "macos" or "other"), which system users exist."""

    path: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    is_root: bool = field(default_factory=lambda: hasattr(os, "geteuid") and os.geteuid() == 0)
    system: str = field(default_factory=lambda: detect_system())
    has_user: Callable[[str], bool] = user_exists


def detect_system(os_release: Path = Path("/etc/os-release")) -> str:
    if sys.platform == "darwin":
        return "macos"
    try:
        fields = dict(
            line.split("=", 1) for line in os_release.read_text().splitlines() if "=" in line
        )
    except OSError:
        return "other"
    ids = {fields.get("ID", "").strip('"')} | set(fields.get("ID_LIKE", "").strip('"').split())
    if "ubuntu" in ids:
        return "ubuntu"
    return "debian" if "debian" in ids else "other"


def _python_problem(env: Environment) -> str | None:
    if sys.version_info < MIN_PYTHON:
        return f"{sys.executable} is Python {platform.python_version()}"
    has_venv = (REPO_ROOT / ".venv" / "bin" / "python").exists()
    try:
        import ensurepip  # noqa: F401  (Debian ships it in python3-venv)
    except ImportError:
        return None if has_venv else "python3 cannot create a venv (no ensurepip)"
    return None


def _git_problem(env: Environment) -> str | None:
    return None if shutil.which("git", path=env.path) else "not found"


def _postgres_problem(env: Environment) -> str | None:
    if find_pg_bin_dir(env.path) is None:
        return "not found"
    if env.is_root:
        # PostgreSQL refuses to run as root: the tests start it as `postgres` via runuser.
        if not env.has_user("postgres"):
            return "no `postgres` system user to run it as (tests run as root)"
        if shutil.which("runuser", path=env.path) is None:
            return "no `runuser` to start it as `postgres` (tests run as root)"
    return None


def _browser_problem(env: Environment) -> str | None:
    return None if find_browser(env.path) else "not found"


def _node_problem(env: Environment) -> str | None:
    return None if shutil.which("node", path=env.path) else "not found"


def _go_problem(env: Environment) -> str | None:
    go = find_go(env.path)
    if go is None:
        return "not found"
    try:
        out = subprocess.run(
            [go, "env", "GOVERSION"], capture_output=True, text=True, check=False, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return f"{go} does not run"
    raw = out.strip().removeprefix("go")
    parts = raw.split(".")
    found = tuple(int(p) for p in parts[:2] if p.isdigit())
    if len(found) < 2 or found < MIN_GO:
        return f"{go} is Go {raw or '?'}"
    return None


PREREQUISITES: tuple[Prerequisite, ...] = (
    Prerequisite(
        "python",
        "Python >= 3.11 with venv",
        "make setup",
        _python_problem,
        apt=("python3-venv",),
        brew=("python@3.11",),
    ),
    Prerequisite("git", "git", "the diff and release tests", _git_problem, ("git",), brew=("git",)),
    Prerequisite(
        "postgresql",
        "PostgreSQL server (pg_ctl, initdb)",
        "the kpis-api and gitops probe tests",
        _postgres_problem,
        apt=("postgresql",),
        brew=("postgresql@17",),
    ),
    Prerequisite(
        "browser",
        "Chromium and chromedriver",
        "the kpis-api dashboard test",
        _browser_problem,
        apt=("chromium", "chromium-driver"),
        # Ubuntu's chromium is a snap behind a transitional package of another name.
        apt_ubuntu=("chromium-browser", "chromium-chromedriver"),
        brew_casks=("google-chrome", "chromedriver"),
    ),
    Prerequisite(
        "node",
        "Node.js",
        "the GitHub Action's comment script test",
        _node_problem,
        apt=("nodejs",),
        brew=("node",),
    ),
    Prerequisite(
        "go",
        f"Go >= {'.'.join(map(str, MIN_GO))}",
        "the upstream validator's and the chart tests (make setup builds the validator and helm)",
        _go_problem,
        brew=("go",),
        manual="Go from https://go.dev/dl (distribution packages are older)",
        ci_only=True,
    ),
)
BY_KEY: Mapping[str, Prerequisite] = {p.key: p for p in PREREQUISITES}


@dataclass(frozen=True)
class Missing:
    prerequisite: Prerequisite
    problem: str

    def describe(self) -> str:
        p = self.prerequisite
        detail = "" if self.problem == "not found" else f": {self.problem}"
        return f"{p.label} ({p.needed_by}{detail})"


def find_missing(
    keys: Iterable[str] | None = None, env: Environment | None = None
) -> list[Missing]:
    """The prerequisites (all, or ``keys``) that are not there, in the list's order. Outside
    CI the CI-only ones are not asked for (unless named in ``keys``)."""
    env = env or Environment()
    wanted = list(keys) if keys is not None else None
    missing = []
    for prerequisite in PREREQUISITES:
        if wanted is not None and prerequisite.key not in wanted:
            continue
        if wanted is None and prerequisite.ci_only and not under_ci(env.environ):
            continue
        problem = prerequisite.problem(env)
        if problem is not None:
            missing.append(Missing(prerequisite, problem))
    return missing


# ------------------------------------------------------------------------------- messages


def apt_packages(missing: Sequence[Missing], system: str) -> list[str]:
    packages: list[str] = []
    for item in missing:
        p = item.prerequisite
        names = p.apt_ubuntu if system == "ubuntu" and p.apt_ubuntu is not None else p.apt
        packages.extend(name for name in names if name not in packages)
    return packages


def install_command(missing: Sequence[Missing], env: Environment) -> str:
    """The one command that installs ``missing`` on this platform (plus the manual steps no
    package has)."""
    manual = [m.prerequisite.manual for m in missing if m.prerequisite.manual]
    if env.system == "macos":
        formulae = [f for m in missing for f in m.prerequisite.brew]
        casks = [c for m in missing for c in m.prerequisite.brew_casks]
        parts = [f"brew install {' '.join(formulae)}"] if formulae else []
        parts += [f"brew install --cask {' '.join(casks)}"] if casks else []
        return " && ".join(parts)
    packages = apt_packages(missing, env.system)
    steps: list[str] = []
    if packages:
        apt = f"apt-get install -y {' '.join(packages)}"
        if env.system == "other":
            steps.append(f"{apt} on Debian/Ubuntu, or your package manager's equivalent")
        elif env.is_root:
            steps.append(f"make deps (runs {apt})")
        else:
            steps.append(f"sudo {apt} (or sudo make deps)")
    return "; ".join(steps + manual)


def missing_message(missing: Sequence[Missing], env: Environment) -> str:
    """One line: what is missing, for what, and the command that installs it."""
    names = "; ".join(item.describe() for item in missing)
    return f"prerequisites missing: {names}. Install: {install_command(missing, env)}"


def require(*keys: str, env: Environment | None = None) -> None:
    """For a test or fixture that needs ``keys``: nothing when they are there; otherwise
    :func:`skip_or_fail` with the install line."""
    env = env or Environment()
    missing = find_missing(keys, env)
    if missing:
        skip_or_fail(missing_message(missing, env), env.environ)


def skip_or_fail(reason: str, environ: Mapping[str, str] | None = None) -> NoReturn:
    """The one rule for a test whose prerequisite is missing: skip with ``reason`` outside
    CI, fail under CI."""
    import pytest

    if under_ci(environ):
        pytest.fail(f"{reason} (CI: a missing prerequisite fails, it never skips)")
    pytest.skip(reason)


# ------------------------------------------------------------------------------- make deps

Runner = Callable[[Sequence[str], Mapping[str, str]], int]


def _run(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    return subprocess.run(list(argv), env=dict(environ), check=False).returncode


def install(env: Environment, run: Runner = _run) -> int:
    """`make deps`: apt-get install what is missing (Debian/Ubuntu, as root); nothing to do
    (and no apt-get) when everything is there. Exit 0, or 2 with one line."""
    missing = find_missing(env=env)
    if not missing:
        print("deps: every prerequisite is installed")
        return 0
    packages = apt_packages(missing, env.system)
    if env.system not in ("debian", "ubuntu") or not env.is_root or not packages:
        print(f"deps: {missing_message(missing, env)}", file=sys.stderr)
        return EXIT_MISSING
    apt_env = {**env.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"deps: apt-get install {' '.join(packages)}")
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        if run(argv, apt_env) != 0:
            print(f"deps: `{' '.join(argv)}` failed", file=sys.stderr)
            return EXIT_MISSING
    left = find_missing(env=env)
    if left:
        print(f"deps: still {missing_message(left, env)}", file=sys.stderr)
        return EXIT_MISSING
    return 0


def main(argv: Sequence[str]) -> int:
    env = Environment()
    if list(argv) == ["--install"]:
        return install(env)
    if argv:
        print(f"usage: {sys.argv[0]} [--install]", file=sys.stderr)
        return EXIT_MISSING
    missing = find_missing(env=env)
    if missing:
        print(missing_message(missing, env), file=sys.stderr)
        return EXIT_MISSING
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
