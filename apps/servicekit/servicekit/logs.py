"""One-line JSON logs on stderr, so the cluster's log pipeline can parse every record.

Example::

    configure_logging(logging.INFO)
    logging.getLogger("healthz").info("listening", extra={"port": 8080})
    # {"ts": "2025-01-15T10:00:00.123Z", "level": "info", "logger": "healthz",
    #  "msg": "listening", "port": 8080}
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is
# worth emitting as a field of its own.
_STANDARD_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class JsonLineFormatter(logging.Formatter):
    """Format a record as a single JSON object with ``extra=`` fields flattened in."""

    def format(self, record: logging.LogRecord) -> str:
        timestamp = datetime.fromtimestamp(record.created, tz=UTC)
        milliseconds = timestamp.microsecond // 1000
        entry: dict[str, Any] = {
            "ts": timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{milliseconds:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(", ", ": "))


def configure_logging(level: int) -> None:
    """Send every logger's records, as JSON lines, to stderr at ``level`` and above."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
