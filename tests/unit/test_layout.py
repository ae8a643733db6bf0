"""Every module of ``tools/gitops`` has its own test module, so a reader (and a reviewer of a
change) finds a module's tests by its path: ``gitops/a/b.py`` -> ``tests/unit/a/test_b.py`` and
``gitops/x.py`` -> ``tests/unit/test_x.py``. A package's ``__init__.py`` is exempt: what it
defines is tested where it is used, or in ``tests/unit/test_<package>.py``."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO_ROOT

SOURCE = REPO_ROOT / "tools" / "gitops"
TESTS = REPO_ROOT / "tests" / "unit"


def expected_test_module(module: Path) -> Path:
    """``tools/gitops/a/b.py`` -> ``tests/unit/a/test_b.py``."""
    relative = module.relative_to(SOURCE)
    return TESTS / relative.parent / f"test_{relative.name}"


def modules_without_tests(source: Path = SOURCE) -> list[str]:
    return [
        f"{module.relative_to(source.parent).as_posix()} (expected "
        f"{expected_test_module(module).relative_to(REPO_ROOT).as_posix()})"
        for module in sorted(source.rglob("*.py"))
        if module.name != "__init__.py" and not expected_test_module(module).is_file()
    ]


def test_the_mapping_follows_the_package_path() -> None:
    assert expected_test_module(SOURCE / "diff" / "compare.py") == (
        TESTS / "diff" / "test_compare.py"
    )
    assert expected_test_module(SOURCE / "runner.py") == TESTS / "test_runner.py"


def test_every_gitops_module_has_its_own_test_module() -> None:
    missing = modules_without_tests()
    assert not missing, "modules without a test module:\n  " + "\n  ".join(missing)
