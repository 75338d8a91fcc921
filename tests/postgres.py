"""A throwaway PostgreSQL server for the test run, started from Debian's binaries.

The server refuses to run as root, so when the tests run as root (as CI does) the cluster
is initialised and started as the ``postgres`` user. Set LEDGER_TEST_POSTGRES_URL to use
a server of your own instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def _binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    pg_ctl = shutil.which("pg_ctl")
    return os.path.dirname(pg_ctl) if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the SQLAlchemy URL of a fresh, empty PostgreSQL server; stop it afterwards."""
    configured = os.environ.get("LEDGER_TEST_POSTGRES_URL")
    if configured:
        yield configured
        return
    bindir = _binaries()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL server binaries not found (apt-get install postgresql)")
    base = tempfile.mkdtemp(prefix="s106-pg-")
    data = os.path.join(base, "data")
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(base, postgres.pw_uid, postgres.pw_gid)
    port = _free_port()
    try:
        subprocess.run(
            _as_server_user([f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust",
                             "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, capture_output=True,
        )
        # Durability off: a test server that loses data on a crash is fine, and much faster.
        options = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        subprocess.run(
            _as_server_user([f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(base, "server.log"),
                             "-o", options, "-w", "start"]),
            check=True, capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
