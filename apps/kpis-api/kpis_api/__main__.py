"""Entry point for ``python -m kpis_api``."""

from kpis_api.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
