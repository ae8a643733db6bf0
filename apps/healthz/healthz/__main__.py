"""Entry point for ``python -m healthz``."""

from healthz.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
