"""``gitops.pglocal``: a throwaway PostgreSQL from the machine's server binaries, stopped and
started again (``gitops probe``'s "database down"), and removed."""

from __future__ import annotations

import socket

import pytest

from gitops.pglocal import LocalPostgres, find_pg_bin_dir, free_port

needs_postgres = pytest.mark.requires("postgresql")


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_free_port_is_bindable_on_loopback() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert 0 < port < 65536


@needs_postgres
def test_bin_dir_has_the_server_tools() -> None:
    bin_dir = find_pg_bin_dir()
    assert bin_dir is not None
    assert (bin_dir / "pg_ctl").exists() and (bin_dir / "initdb").exists()


@needs_postgres
def test_create_stop_start_and_close() -> None:
    with LocalPostgres.create() as pg:
        root = pg.root
        settings = pg.settings()
        assert settings["host"] == "127.0.0.1" and settings["port"] == str(pg.port)
        assert len(settings["password"]) >= 16
        assert _accepts(pg.port)
        pg.stop()
        assert not _accepts(pg.port)
        pg.start()
        assert _accepts(pg.port)
    assert not root.exists() and not _accepts(pg.port)
