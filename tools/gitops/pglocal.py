"""A throwaway local PostgreSQL for ``gitops probe``: initdb in a temp dir, start on a free
loopback port, stop and start again (the "database down" scenario), remove everything.

Uses Debian's (or any) PostgreSQL server binaries: ``pg_ctl`` on PATH or under
``/usr/lib/postgresql/<version>/bin``. PostgreSQL refuses to run as root, so under root (CI) the
server runs as the ``postgres`` system user through ``runuser``.

    >>> with LocalPostgres.create() as pg:
    ...     pg.dsn_settings()["KPIS_PG_PORT"]
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from gitops.errors import ToolNotFoundError
from gitops.runner import Command, run

INSTALL_HINT = "install PostgreSQL server binaries (Debian: apt-get install postgresql)"


def find_pg_bin_dir() -> Path | None:
    on_path = shutil.which("pg_ctl")
    if on_path:
        real = Path(os.path.realpath(on_path)).parent
        if (real / "initdb").exists():
            return real
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalPostgres:
    bin_dir: Path
    root: Path
    port: int
    user: str = "kpis"
    database: str = "kpis"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    run_as: str | None = None  # system user when we are root

    @classmethod
    def create(cls) -> LocalPostgres:
        bin_dir = find_pg_bin_dir()
        if bin_dir is None:
            raise ToolNotFoundError(
                f"no PostgreSQL binaries (pg_ctl, initdb) found: {INSTALL_HINT}"
            )
        run_as = None
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise ToolNotFoundError("running as root needs `runuser` to start PostgreSQL")
            run_as = "postgres"
        root = Path(tempfile.mkdtemp(prefix="gitops-pg-"))
        pg = cls(bin_dir=bin_dir, root=root, port=free_port(), run_as=run_as)
        pg._init()
        return pg

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def _argv(self, tool: str, *args: str) -> tuple[str, ...]:
        argv = (str(self.bin_dir / tool), *args)
        return ("runuser", "-u", self.run_as, "--", *argv) if self.run_as else argv

    def _init(self) -> None:
        self.socket_dir.mkdir()
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if self.run_as:
            shutil.chown(self.root, user=self.run_as)
            shutil.chown(self.socket_dir, user=self.run_as)
            shutil.chown(pwfile, user=self.run_as)
        run(
            Command(
                self._argv(
                    "initdb",
                    "-D",
                    str(self.data_dir),
                    "-U",
                    self.user,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ),
                timeout=120,
            )
        )
        pwfile.unlink()
        self.start()
        run(
            Command(
                self._argv(
                    "createdb",
                    "-h",
                    str(self.socket_dir),
                    "-p",
                    str(self.port),
                    "-U",
                    self.user,
                    self.database,
                ),
                timeout=60,
            )
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(
            Command(
                self._argv(
                    "pg_ctl",
                    "-D",
                    str(self.data_dir),
                    "-o",
                    options,
                    "-l",
                    str(self.root / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ),
                timeout=90,
            )
        )

    def stop(self) -> None:
        run(
            Command(
                self._argv("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"),
                timeout=90,
                ok_codes=frozenset({0, 1}),
            )
        )

    def settings(self) -> dict[str, str]:
        return {
            "host": "127.0.0.1",
            "port": str(self.port),
            "database": self.database,
            "user": self.user,
            "password": self.password,
        }

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
