"""Text and JSON output of probe results."""

from __future__ import annotations

import json

from gitops.probe.results import ProbeResult, seconds_text


def format_text(results: list[ProbeResult]) -> str:
    lines: list[str] = []
    for result in results:
        status = "PASS" if result.passed else "FAIL"
        lines.append(f"{result.env}/{result.service}: {status}")
        for note in result.notes:
            lines.append(f"  note: {note}")
        for timing in result.timings:
            measured = (
                f"{timing.measured_startup:.2f}s"
                if timing.measured_startup is not None
                else "never"
            )
            ready = f"{timing.time_to_ready:.2f}s" if timing.time_to_ready is not None else "never"
            lines.append(
                f"  {timing.container}: started in {measured} "
                f"(budget {seconds_text(timing.startup_budget, timing.speed)}), ready at {ready}"
            )
        for check in result.checks:
            mark = "ok  " if check.passed else "FAIL"
            lines.append(f"  {mark} {check.kind:18} {check.message}")
    return "\n".join(lines) + "\n"


def format_json(results: list[ProbeResult]) -> str:
    return json.dumps({"results": [r.to_json() for r in results]}, indent=2) + "\n"
