"""Hypothesis profiles: `make test` runs each fuzz target briefly (the "ci" profile);
`make fuzz` runs them for a bounded number of examples each (FUZZ_EXAMPLES, default 3000)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

# Hypothesis keeps failing examples (replayed first next time) and caches in a home folder:
# build/ (ignored by git) instead of a .hypothesis/ folder in the tree.
_HOME = Path(__file__).resolve().parents[2] / "build" / "hypothesis"
set_hypothesis_home_dir(str(_HOME))
_DATABASE = DirectoryBasedExampleDatabase(str(_HOME / "examples"))
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    database=_DATABASE,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "3000")),
    deadline=None,
    database=_DATABASE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
