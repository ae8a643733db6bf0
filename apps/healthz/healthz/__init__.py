"""healthz: a tiny HTTP health endpoint for the integration namespace.

It answers ``GET /health`` with ``{"status": "healthy", "timestamp": "..."}`` and exposes
Prometheus metrics on ``GET /metrics``. Run it with ``python -m healthz`` (port ``$PORT``,
default 8080).
"""

__version__ = "0.1.0"
